import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { KafkaContext } from '@nestjs/microservices';
import { SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { type Observable, tap } from 'rxjs';
import type { TraceContextStorage } from './trace-context.storage';

/**
 * Makes each consumed Kafka message a span, `cms-sync <topic> process`, around its controller
 * call, and the active context of everything the handler does (so database and Redis spans
 * become its children). HTTP requests and batch handlers pass through untouched.
 */
export class KafkaSpanInterceptor implements NestInterceptor {
  constructor(
    private readonly tracer: Tracer,
    private readonly contexts: TraceContextStorage,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const kafka = context.switchToRpc().getContext<unknown>();
    if (!(kafka instanceof KafkaContext)) return next.handle();

    const topic = kafka.getTopic();
    const span = this.tracer.startSpan(
      `cms-sync ${topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(kafka.getPartition()),
          'messaging.kafka.offset': Number(kafka.getMessage().offset),
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
        next: (outcome) => {
          if (typeof outcome === 'string') span.setAttribute('cms_sync.outcome', outcome);
        },
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
