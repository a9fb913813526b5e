import type { DataSource } from 'typeorm';
import { ENTITY_KINDS, type EntityKind } from '../domain/entity-kind';

const ENTITY_TABLES: Readonly<Record<EntityKind, string>> = {
  product: 'cms_products',
  customer: 'cms_customers',
  order: 'cms_orders',
};

/** Below every BIGINT id: where a walk over a table's ids starts. */
const MIN_BIGINT = '-9223372036854775808';

/** An entity whose last applied event, as the sync state records it, the tables do not show. */
export interface OutOfStepEntity {
  readonly kind: EntityKind;
  readonly entityId: string;
  readonly eventType: string;
  readonly processedAt: Date;
  readonly rowExists: boolean;
}

export interface SyncStateCheck {
  /** The newest `synced_at` of any entity row; null: the tables are empty. */
  readonly newestRow: Date | null;
  /** Up to `limit` examples; empty: the sync state matches the tables. */
  readonly outOfStep: readonly OutOfStepEntity[];
}

export interface RebuildCounts {
  readonly versionRowsDropped: number;
  /** Entity rows of the restored tables whose lock row had to be written again. */
  readonly lockRowsRestored: number;
  readonly processedEventsDropped: number;
}

/** What `npm run rewind` reads and rebuilds in the restored database; the service is stopped. */
export class RewindStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Per partition of `topic`, the highest offset recorded in processed_events at or before
   * `cutoff`. A full scan of processed_events: it has no index on topic and partition, and the
   * hot path should not pay for one that only this tool uses.
   */
  async recordedOffsets(topic: string, cutoff: Date): Promise<Map<number, bigint>> {
    const rows: { kafka_partition: number; last: string | number }[] = await this.dataSource.query(
      `SELECT kafka_partition, MAX(kafka_offset) AS last FROM processed_events
        WHERE topic = ? AND processed_at <= ? GROUP BY kafka_partition`,
      [topic, cutoff],
    );
    return new Map(rows.map((row) => [Number(row.kafka_partition), BigInt(row.last)]));
  }

  /**
   * Does the sync state show anything the tables do not? An applied upsert sets its row's
   * synced_at to the time it records in processed_events, and a later change only moves it on,
   * so every row's synced_at is at most the newest one, N. For each entity whose last applied
   * event (highest version) was recorded after N: if that event is an upsert, no row can show
   * it; if it is a delete, its row must be gone. Stale events (recorded, no table touched) and
   * deletes whose row is gone (and upserts overtaken by them) are what a consistent database
   * legitimately holds after N; anything else means the sync state is newer than the tables.
   */
  async checkSyncState(limit: number): Promise<SyncStateCheck> {
    let newestRow: Date | null = null;
    for (const kind of ENTITY_KINDS) {
      const [row] = await this.dataSource.query<{ newest: Date | null }[]>(
        `SELECT MAX(synced_at) AS newest FROM ${ENTITY_TABLES[kind]}`,
      );
      const newest = row?.newest ?? null;
      if (newest !== null && (newestRow === null || newest > newestRow)) newestRow = newest;
    }
    const outOfStep: OutOfStepEntity[] = [];
    for (const kind of ENTITY_KINDS) {
      if (outOfStep.length >= limit) break;
      const rows: {
        entity_id: string | number;
        event_type: string;
        processed_at: Date;
        row_exists: number | string;
      }[] = await this.dataSource.query(
        `SELECT latest.entity_id, latest.event_type, latest.processed_at,
                t.id IS NOT NULL AS row_exists
           FROM (SELECT entity_id, event_type, processed_at,
                        ROW_NUMBER() OVER (PARTITION BY entity_id
                                           ORDER BY version DESC, processed_at DESC) AS n
                   FROM processed_events
                  WHERE outcome = 'applied' AND event_type LIKE ? AND processed_at > ?) latest
           LEFT JOIN ${ENTITY_TABLES[kind]} t ON t.id = latest.entity_id
          WHERE latest.n = 1 AND (latest.event_type <> ? OR t.id IS NOT NULL)
          ORDER BY latest.processed_at
          LIMIT ?`,
        [`${kind}.%`, newestRow ?? new Date(0), `${kind}.deleted`, limit - outOfStep.length],
      );
      outOfStep.push(
        ...rows.map((row) => ({
          kind,
          entityId: String(row.entity_id),
          eventType: row.event_type,
          processedAt: row.processed_at,
          rowExists: Number(row.row_exists) === 1,
        })),
      );
    }
    return { newestRow, outOfStep };
  }

  /** How much `rebuildFromTables(cutoff)` would drop, for a dry run. */
  async rebuildPreview(cutoff: Date): Promise<{ versionRows: number; processedEvents: number }> {
    const count = async (sql: string) =>
      Number((await this.dataSource.query<{ n: string | number }[]>(sql, [cutoff]))[0]?.n ?? 0);
    return {
      versionRows: await count(
        'SELECT COUNT(*) AS n FROM sync_entity_versions WHERE updated_at > ?',
      ),
      processedEvents: await count(
        'SELECT COUNT(*) AS n FROM processed_events WHERE processed_at > ?',
      ),
    };
  }

  /**
   * Rebuilds the sync state from the restored tables, `batchSize` rows per autocommit statement:
   * 1. sync_entity_versions rows written after `cutoff` go (tombstones of deletes the replay
   *    repeats, and versions the replay re-establishes);
   * 2. every entity row of the restored tables gets its lock row back (version 0, not deleted):
   *    the version rule reads a live entity's version from the row's own source_version, and
   *    keeps only tombstones in sync_entity_versions;
   * 3. processed_events rows after `cutoff` go, so that the replay applies those events again.
   * Step 3 comes last: processed_events rows newer than the tables are what marks the state as
   * out of step, so an interrupted rebuild is still detected and can simply be run again.
   */
  async rebuildFromTables(cutoff: Date, batchSize: number): Promise<RebuildCounts> {
    let versionRowsDropped = 0;
    let lockRowsRestored = 0;
    for (const kind of ENTITY_KINDS) {
      versionRowsDropped += await this.inIdRanges(
        'sync_entity_versions',
        'entity_id',
        'entity = ?',
        [kind],
        batchSize,
        (from, to) =>
          this.affected(
            `DELETE FROM sync_entity_versions
              WHERE entity = ? AND entity_id > ? AND entity_id <= ? AND updated_at > ?`,
            [kind, from, to, cutoff],
          ),
      );
      const table = ENTITY_TABLES[kind];
      lockRowsRestored += await this.inIdRanges(table, 'id', '1 = 1', [], batchSize, (from, to) =>
        this.affected(
          `INSERT IGNORE INTO sync_entity_versions (entity, entity_id, version, deleted, updated_at)
           SELECT ?, id, 0, 0, synced_at FROM ${table} WHERE id > ? AND id <= ?`,
          [kind, from, to],
        ),
      );
    }
    let processedEventsDropped = 0;
    for (;;) {
      const dropped = await this.affected(
        'DELETE FROM processed_events WHERE processed_at > ? ORDER BY processed_at LIMIT ?',
        [cutoff, batchSize],
      );
      processedEventsDropped += dropped;
      if (dropped < batchSize) break;
    }
    return { versionRowsDropped, lockRowsRestored, processedEventsDropped };
  }

  /**
   * Walks `table` in ranges of `batchSize` ids (keyset on the primary key, so each step reads
   * only its range) and sums what `step` returns for each (from, to] range of `rows` ids.
   */
  private async inIdRanges(
    table: string,
    idColumn: string,
    where: string,
    params: unknown[],
    batchSize: number,
    step: (from: string, to: string, rows: number) => Promise<number>,
  ): Promise<number> {
    let total = 0;
    let from = MIN_BIGINT;
    for (;;) {
      const ids = await this.dataSource.query<{ id: string | number }[]>(
        `SELECT ${idColumn} AS id FROM ${table} WHERE ${where} AND ${idColumn} > ?
          ORDER BY ${idColumn} LIMIT ?`,
        [...params, from, batchSize],
      );
      const last = ids[ids.length - 1];
      if (last === undefined) return total;
      const to = String(last.id);
      total += await step(from, to, ids.length);
      from = to;
    }
  }

  private async affected(sql: string, params: unknown[]): Promise<number> {
    const result: { affectedRows?: number } = await this.dataSource.query(sql, params);
    return result.affectedRows ?? 0;
  }
}
