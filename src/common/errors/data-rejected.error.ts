import { SyncError } from './sync.error';

/**
 * The database refused a statement for the data one event carries (a value too long for its
 * column, out of range, NULL into NOT NULL, a failed CHECK): the same event fails the same way
 * every time, so it is not retried but found and dead-lettered as `rejected_by_database`.
 */
export class DataRejectedError extends SyncError {
  readonly retriable = false;

  constructor(
    /** The driver's code, e.g. ER_DATA_TOO_LONG, or the errno when the driver has no name. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
