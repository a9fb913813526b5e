import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordedOutcome } from '../domain/sync-outcome';
import type { SyncEvent } from '../domain/sync-event';
import type { SqlConnection } from './sql-connection';

const TABLE = 'processed_events';
const COLUMNS = [
  'event_id',
  'event_type',
  'entity_id',
  'version',
  'outcome',
  'topic',
  'kafka_partition',
  'kafka_offset',
  'processed_at',
];

@Injectable()
export class ProcessedEventRepository {
  /**
   * Deletes rows processed before `olderThan`, `batchSize` at a time on the processed_at index,
   * each batch its own short autocommit statement, so no lock is held for long. Returns how
   * many rows went. `onBatch` hears each batch's count (for metrics) as it happens.
   */
  async prune(
    em: EntityManager,
    olderThan: Date,
    batchSize: number,
    onBatch: (deleted: number) => void = () => undefined,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const result: { affectedRows?: number } = await em.query(
        'DELETE FROM processed_events WHERE processed_at < ? ORDER BY processed_at LIMIT ?',
        [olderThan, batchSize],
      );
      const deleted = result.affectedRows ?? 0;
      total += deleted;
      onBatch(deleted);
      if (deleted < batchSize) return total;
    }
  }

  /**
   * Records events in the transaction that applied them. A concurrent instance that recorded
   * one of them first makes the commit throw DuplicateKeyError, which rolls the whole change back.
   */
  record(
    db: SqlConnection,
    events: readonly SyncEvent[],
    outcomes: ReadonlyMap<string, RecordedOutcome>,
    processedAt: Date,
  ): void {
    db.insertRows(
      TABLE,
      COLUMNS,
      events.map((event) => [
        event.eventId,
        event.type,
        event.entityId,
        event.version,
        outcomes.get(event.eventId) ?? 'stale',
        event.origin.topic,
        event.origin.partition,
        event.origin.offset,
        processedAt,
      ]),
    );
  }
}
