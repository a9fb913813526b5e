import type { EntityKind } from './entity-kind';
import type { RecordedOutcome } from './sync-outcome';
import type { SyncEvent } from './sync-event';

/** The last version applied or deleted for one entity; `deleted` keeps a tombstone's version. */
export interface VersionState {
  readonly version: number;
  readonly deleted: boolean;
}

export type EntityKey = `${EntityKind}:${number}`;

export const entityKey = (kind: EntityKind, entityId: number): EntityKey => `${kind}:${entityId}`;

/**
 * An entity's last version from what the database keeps of it: its tombstone (the version of its
 * last delete, if it was ever deleted) and its row's `source_version` (if it has a row). A
 * tombstone stays when a newer version brings the entity back, so the greater one counts.
 * Undefined for an entity never applied or deleted.
 */
export function lastVersion(
  tombstone: number | undefined,
  rowVersion: number | undefined,
): VersionState | undefined {
  if (tombstone === undefined && rowVersion === undefined) return undefined;
  return {
    version: Math.max(tombstone ?? 0, rowVersion ?? 0),
    deleted: rowVersion === undefined,
  };
}

/** Contract section 3: an event changes an entity only if its version is above the last one. */
export function isNewer(current: VersionState | undefined, version: number): boolean {
  return current === undefined || version > current.version;
}

/**
 * The newest event of each entity. On equal versions the first one seen wins, as it would when
 * the events are applied one at a time in the same order.
 */
export function newestPerEntity(events: readonly SyncEvent[]): Map<EntityKey, SyncEvent> {
  const newest = new Map<EntityKey, SyncEvent>();
  for (const event of events) {
    const key = entityKey(event.kind, event.entityId);
    const seen = newest.get(key);
    if (seen === undefined || event.version > seen.version) newest.set(key, event);
  }
  return newest;
}

export interface ApplyPlan {
  /** At most one event per entity: the ones whose change must be written. */
  readonly winners: readonly SyncEvent[];
  /** The outcome recorded in processed_events for every event given, winners included. */
  readonly outcomes: ReadonlyMap<string, RecordedOutcome>;
}

/**
 * Decides, for events not processed before, which change each entity gets. Any number of events
 * at once: one for the per-event path, a whole Kafka batch for the batch path.
 */
export function planApply(
  events: readonly SyncEvent[],
  current: ReadonlyMap<EntityKey, VersionState>,
): ApplyPlan {
  const winners: SyncEvent[] = [];
  for (const [key, event] of newestPerEntity(events)) {
    if (isNewer(current.get(key), event.version)) winners.push(event);
  }
  const winnerIds = new Set(winners.map((event) => event.eventId));
  const outcomes = new Map<string, RecordedOutcome>();
  for (const event of events) {
    if (!outcomes.has(event.eventId)) {
      outcomes.set(event.eventId, winnerIds.has(event.eventId) ? 'applied' : 'stale');
    }
  }
  return { winners, outcomes };
}
