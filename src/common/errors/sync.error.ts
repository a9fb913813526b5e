/**
 * Base of every error the service raises on purpose. `retriable` is read in exactly one
 * place, the retry loop, which decides between waiting the failure out and dead-lettering.
 */
export abstract class SyncError extends Error {
  abstract readonly retriable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
