import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { type Attributes, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { KafkaBatchContext } from '../kafka/kafka-batch.context';
import { type Observable, tap } from 'rxjs';
import type { TraceContextStorage } from './trace-context.storage';

/**
 * Makes each fetched partition batch a span, `cms-sync <topic> process`, around its controller
 * call, and the active context of everything the handler does (so database and Redis spans
 * become its children: the fetch's one Redis lookup, each transaction, the cache write). In
 * event mode its transactions are one per event; in batch mode events share them, so per-event
 * spans would all claim the same database work. HTTP requests pass through untouched.
 */
export class KafkaSpanInterceptor implements NestInterceptor {
  constructor(
    private readonly tracer: Tracer,
    private readonly contexts: TraceContextStorage,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const target = spanTarget(context.switchToRpc().getContext<unknown>());
    if (target === undefined) return next.handle();

    const span = this.tracer.startSpan(
      `cms-sync ${target.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': target.topic,
          ...target.attributes,
        },
      },
      this.contexts.active(),
    );
    // Nest binds the handler to the async context current when handle() is called: call it here.
    const handled = this.contexts.run(trace.setSpan(this.contexts.active(), span), () =>
      next.handle(),
    );
    return handled.pipe(
      tap({
        error: (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          span.recordException(error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        },
        finalize: () => span.end(),
      }),
    );
  }
}

/** The topic and attributes of a batch span; undefined for anything else. */
function spanTarget(rpc: unknown): { topic: string; attributes: Attributes } | undefined {
  if (rpc instanceof KafkaBatchContext) {
    const messages = rpc.getMessages();
    const first = messages[0];
    if (first === undefined) return undefined;
    return {
      topic: first.topic,
      attributes: {
        'messaging.destination.partition.id': String(first.partition),
        'messaging.batch.message_count': messages.length,
        'messaging.kafka.offset': Number(first.offset),
        'cms_sync.last_offset': Number(messages[messages.length - 1]?.offset),
      },
    };
  }
  return undefined;
}
