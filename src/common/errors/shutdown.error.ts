/**
 * The service is stopping while an event still waits for a dependency. Not a SyncError: it must
 * leave the handler without a decision, so the event's offset is not committed.
 */
export class ShutdownError extends Error {
  constructor() {
    super('shutting down before the event could be completed; it will be redelivered');
    this.name = 'ShutdownError';
  }
}
