/** What handling one event ended in; also the `outcome` label of `sync_events_total`. */
export type SyncOutcome = 'applied' | 'duplicate' | 'stale' | 'invalid';

/** The outcomes stored in `processed_events`. */
export type RecordedOutcome = Extract<SyncOutcome, 'applied' | 'stale'>;
