import { SyncError } from './sync.error';

/**
 * A concurrent writer (another instance, or another partition of this one) inserted the same
 * key first. Retrying the whole transaction sees its committed work and decides again.
 */
export class DuplicateKeyError extends SyncError {
  readonly retriable = true;

  constructor(
    readonly table: string,
    options?: { cause?: unknown },
  ) {
    super(`duplicate key in ${table}: a concurrent writer got there first`, options);
  }
}
