import { SyncError } from './sync.error';

export type InvalidEventType =
  | 'empty_message'
  | 'too_large'
  | 'invalid_encoding'
  | 'invalid_json'
  | 'nesting_too_deep'
  | 'unsafe_key'
  | 'schema_violation'
  | 'type_mismatch'
  /** Decoding or validating threw something unforeseen: deterministic, so never retried. */
  | 'validation_crashed'
  /** Valid by the contract, but the database refused it for its data alone. */
  | 'rejected_by_database';

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
