import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type Redis from 'ioredis';
import type { TraceContextStorage } from './trace-context.storage';

/**
 * Wraps the client's sendCommand, through which single commands and pipelines alike go, so each
 * Redis command of a traced event is a span (`redis MGET`, `redis SET`). Keys and values are not
 * recorded. Commands outside an event's trace (readiness pings) make no spans.
 */
export function traceRedisCommands(
  redis: Redis,
  tracer: Tracer,
  contexts: TraceContextStorage,
): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, ...rest) => {
    const parent = contexts.activeInTrace();
    if (parent === undefined) return send(command, ...rest);
    const operation = command.name.toUpperCase();
    const span = tracer.startSpan(
      `redis ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'redis', 'db.operation.name': operation },
      },
      parent,
    );
    command.promise.then(
      () => span.end(),
      (err: unknown) => {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        span.end();
      },
    );
    return send(command, ...rest);
  };
}
