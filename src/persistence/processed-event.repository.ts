import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordedOutcome } from '../domain/sync-outcome';
import type { SyncEvent } from '../domain/sync-event';
import {
  changedOneRow,
  type SqlConnection,
  type SqlStatement,
  type SqlValue,
} from './sql-connection';

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
   * The database's duplicate check for a set of events: which of them are recorded already, with
   * their outcome. Read the result with `recordedIn`.
   */
  findRecorded(eventIds: readonly string[]): SqlStatement {
    return {
      table: TABLE,
      sql: `SELECT event_id, outcome FROM ${TABLE} WHERE event_id IN (?)`,
      params: [eventIds],
    };
  }

  recordedIn(result: unknown): Map<string, RecordedOutcome> {
    const hits = result as { event_id: string; outcome: RecordedOutcome }[];
    return new Map(hits.map((hit) => [hit.event_id, hit.outcome]));
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
      events.map((event) => row(event, outcomes.get(event.eventId) ?? 'stale', processedAt)),
    );
  }

  /**
   * Records one event as applied before anything else of its transaction is done: the claim is
   * also the database's duplicate check, with no statement beyond the insert the transaction
   * needs anyway. A row already there (recorded before, or by a concurrent instance, which this
   * waits for) leaves it unclaimed; read the result with `isClaimed`. IGNORE turns nothing else
   * into a warning here: every value is validated or the service's own, and fits its column. The
   * claim must be the statement just before a write that ROW_COUNT() makes conditional on it (see
   * CmsEntityRepository.updateIfClaimed).
   */
  claim(event: SyncEvent, processedAt: Date): SqlStatement {
    return {
      table: TABLE,
      sql: `INSERT IGNORE INTO ${TABLE} (${COLUMNS.join(', ')}) VALUES (?)`,
      params: [row(event, 'applied', processedAt)],
    };
  }

  isClaimed(result: unknown): boolean {
    return changedOneRow(result);
  }

  /** Corrects a claimed event's outcome once its transaction has decided it. */
  setOutcome(db: SqlConnection, eventId: string, outcome: RecordedOutcome): void {
    db.write(TABLE, `UPDATE ${TABLE} SET outcome = ? WHERE event_id = ?`, [outcome, eventId]);
  }

  /** The outcome an event was recorded with; for an event its claim found recorded already. */
  async outcomeOf(db: SqlConnection, eventId: string): Promise<RecordedOutcome> {
    const [result] = await db.queries([this.findRecorded([eventId])]);
    const [recorded] = this.recordedIn(result).values();
    // A row that vanished since the claim saw it was pruned: the event is long processed.
    return recorded ?? 'stale';
  }
}

function row(event: SyncEvent, outcome: RecordedOutcome, processedAt: Date): SqlValue[] {
  return [
    event.eventId,
    event.type,
    event.entityId,
    event.version,
    outcome,
    event.origin.topic,
    event.origin.partition,
    event.origin.offset,
    processedAt,
  ];
}
