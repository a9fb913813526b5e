import { SyncError } from './sync.error';

/**
 * The tables are not what the service was built for (a table or column missing, no privilege on
 * it): every event of that entity fails until an operator fixes the schema. Retried with
 * backoff, since the fix makes it pass, but flagged: /ready fails and a metric counts it.
 */
export class SchemaError extends SyncError {
  readonly retriable = true;

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
