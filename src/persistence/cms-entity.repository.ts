import type { EntityManager } from 'typeorm';
import type { EntityKind } from '../domain/entity-kind';
import type { EntityDataMap, UpsertEvent } from '../domain/sync-event';
import { deleteWhereIn, insertRows, type SqlValue } from './sql';

/** The columns every entity table ends with (contract section 3). */
const SYNC_COLUMNS = ['source_version', 'source_occurred_at', 'synced_at'];

/**
 * Writes one kind of entity: many rows per call, so one event and a whole batch share the path.
 * A subclass names its table and maps an event's data to its own columns, id first.
 */
export abstract class CmsEntityRepository<K extends EntityKind> {
  protected abstract readonly table: string;
  protected abstract readonly columns: readonly string[];
  protected abstract values(data: EntityDataMap[K]): SqlValue[];

  async upsert(
    em: EntityManager,
    events: readonly UpsertEvent<K>[],
    syncedAt: Date,
  ): Promise<void> {
    const columns = [...this.columns, ...SYNC_COLUMNS];
    const rows = events.map((event) => [
      ...this.values(event.data as EntityDataMap[K]),
      event.version,
      event.occurredAt,
      syncedAt,
    ]);
    await insertRows(em, this.table, columns, rows, columns.slice(1));
  }

  async delete(em: EntityManager, ids: readonly number[]): Promise<void> {
    await deleteWhereIn(em, this.table, 'id', ids);
  }
}
