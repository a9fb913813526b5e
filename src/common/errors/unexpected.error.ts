import { SyncError } from './sync.error';

/**
 * Anything not known to be transient or invalid input: most likely a bug. It is retried all the
 * same, because skipping the event would lose it, but it is logged loudly.
 */
export class UnexpectedError extends SyncError {
  readonly retriable = true;

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
