/** What handling one event ended in; also the `outcome` label of `sync_events_total`. */
export const SYNC_OUTCOMES = ['applied', 'duplicate', 'stale', 'invalid'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];

/** The outcomes stored in `processed_events`. */
export type RecordedOutcome = Extract<SyncOutcome, 'applied' | 'stale'>;
