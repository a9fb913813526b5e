import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, ROOT_CONTEXT, trace } from '@opentelemetry/api';

/**
 * The current trace context of this app, carried across awaits by AsyncLocalStorage. It is this
 * app's own rather than OpenTelemetry's global context manager, so tests can run several apps
 * in one process, each with its own exporter.
 */
export class TraceContextStorage {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  /** The active context when it belongs to an event's trace; work outside events is not traced. */
  activeInTrace(): Context | undefined {
    const active = this.active();
    return trace.getSpan(active) === undefined ? undefined : active;
  }

  run<T>(context: Context, fn: () => T): T {
    return this.storage.run(context, fn);
  }
}
