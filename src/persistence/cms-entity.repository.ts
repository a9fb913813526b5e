import type { EntityKind } from '../domain/entity-kind';
import type { EntityDataMap, UpsertEvent } from '../domain/sync-event';
import {
  changedOneRow,
  type SqlConnection,
  type SqlStatement,
  type SqlValue,
} from './sql-connection';

/** The fixed parts of one entity table's writes. */
interface EntityStatements {
  columnList: string[];
  onDuplicate: string;
  update: string;
}

/**
 * Writes one kind of entity: many rows per call, so one event and a whole batch share the path.
 * A subclass names its table and maps an event's data to its own columns, id first.
 */
export abstract class CmsEntityRepository<K extends EntityKind> {
  abstract readonly table: string;
  protected abstract readonly columns: readonly string[];
  protected abstract values(data: EntityDataMap[K]): SqlValue[];

  private sql: EntityStatements | undefined;

  /**
   * Inserts or replaces the rows. The version rule stands in the statement too: a row whose
   * `source_version` is not below the event's keeps every column, so a writer that lost a race
   * it did not lock against cannot go back in time. `source_version` is assigned last because
   * MySQL evaluates the assignments in order and the guards read its old value.
   */
  upsert(db: SqlConnection, events: readonly UpsertEvent<K>[], syncedAt: Date): void {
    const { columnList, onDuplicate } = this.statements();
    const rows: SqlValue[][] = new Array<SqlValue[]>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as UpsertEvent<K>;
      const row = this.values(event.data as EntityDataMap[K]);
      row.push(event.version, event.occurredAt, syncedAt);
      rows[i] = row;
    }
    db.insertRows(this.table, columnList, rows, onDuplicate);
  }

  /**
   * Replaces the row of one event's entity if it has one with a lower version, and only if the
   * statement just before it changed a row: sent right after the event's claim
   * (ProcessedEventRepository.claim), ROW_COUNT() makes it write nothing for an event recorded
   * before. An UPDATE by primary key, with no locking read before it: the row lock it takes
   * serialises writers of the entity as the lock row does. Read the result with `isUpdated`:
   * nothing updated means no row, or one as new (the version lock decides then).
   */
  updateIfClaimed(event: UpsertEvent<K>, syncedAt: Date): SqlStatement {
    const values = this.values(event.data as EntityDataMap[K]);
    const params: unknown[] = values.slice(1);
    params.push(event.occurredAt, syncedAt, event.version, values[0], event.version);
    return { table: this.table, sql: this.statements().update, params };
  }

  isUpdated(result: unknown): boolean {
    return changedOneRow(result);
  }

  /**
   * The statements' fixed parts, built once on first use (a subclass's fields are not set yet
   * while this class's constructor runs). Both writes assign the same columns, guarded by the
   * version, and `source_version` last.
   */
  private statements(): EntityStatements {
    return (this.sql ??= this.buildStatements());
  }

  private buildStatements(): EntityStatements {
    const assigned = [...this.columns.slice(1), 'source_occurred_at', 'synced_at'];
    return {
      columnList: [...this.columns, 'source_version', 'source_occurred_at', 'synced_at'],
      onDuplicate: [
        ...assigned.map(
          (c) => `${c} = IF(VALUES(source_version) > source_version, VALUES(${c}), ${c})`,
        ),
        'source_version = GREATEST(source_version, VALUES(source_version))',
      ].join(', '),
      update: `UPDATE ${this.table} SET ${[...assigned, 'source_version']
        .map((c) => `${c} = ?`)
        .join(', ')} WHERE id = ? AND source_version < ? AND ROW_COUNT() = 1`,
    };
  }

  /** Deletes rows whose version is below the delete's (the rows are locked by the version lock). */
  delete(db: SqlConnection, deletes: readonly { id: number; version: number }[]): void {
    db.deleteWhereAny(
      this.table,
      '(id = ? AND source_version < ?)',
      deletes.map((d) => [d.id, d.version]),
    );
  }
}
