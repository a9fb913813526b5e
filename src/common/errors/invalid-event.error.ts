import { SyncError } from './sync.error';

export type InvalidEventType =
  | 'empty_message'
  | 'too_large'
  | 'invalid_encoding'
  | 'invalid_json'
  | 'unsafe_key'
  | 'schema_violation'
  | 'type_mismatch';

/** The message itself is wrong: retrying cannot help, so it is dead-lettered. */
export class InvalidEventError extends SyncError {
  readonly retriable = false;

  constructor(
    readonly errorType: InvalidEventType,
    message: string,
    readonly eventId: string | null = null,
  ) {
    super(message);
  }
}
