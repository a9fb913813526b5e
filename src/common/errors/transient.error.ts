import { SyncError } from './sync.error';

/** A dependency failed in a way that passes (down, overloaded, a lock conflict): wait it out. */
export class TransientError extends SyncError {
  readonly retriable = true;

  constructor(
    readonly dependency: 'mysql' | 'redis' | 'kafka',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
