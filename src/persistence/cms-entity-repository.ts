import type { EntityManager } from 'typeorm';
import type { EntityKind } from '../sync/domain/entity-kind';
import type { UpsertEvent } from '../sync/domain/sync-event';

/** Writes one kind of entity: many rows per call, so one event and a whole batch share the path. */
export interface CmsEntityRepository<K extends EntityKind> {
  upsert(em: EntityManager, events: readonly UpsertEvent<K>[], syncedAt: Date): Promise<void>;
  delete(em: EntityManager, ids: readonly number[]): Promise<void>;
}

/** The columns every entity table ends with, in this order. */
export const SYNC_COLUMNS = ['source_version', 'source_occurred_at', 'synced_at'] as const;

export const syncValues = (event: { version: number; occurredAt: Date }, syncedAt: Date) =>
  [event.version, event.occurredAt, syncedAt] as const;

/** Every column but the primary key: what an upsert rewrites. */
export const nonKey = (columns: readonly string[]) => columns.filter((c) => c !== 'id');
