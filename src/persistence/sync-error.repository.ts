import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MessageOrigin } from '../domain/sync-event';

export const MAX_STORED_PAYLOAD_BYTES = 64 * 1024;
/** TEXT holds 65,535 bytes: this many characters fit even at four bytes each. */
const MAX_STORED_MESSAGE_CHARS = 16_000;
/** error_type is VARCHAR(64) ASCII; event_id VARCHAR(128) ASCII. */
const MAX_ERROR_TYPE_CHARS = 64;
const STORABLE_EVENT_ID = /^[\x20-\x7e]{1,128}$/;

export interface DeadLetterRecord {
  readonly origin: MessageOrigin;
  readonly eventId: string | null;
  readonly errorType: string;
  readonly errorMessage: string;
  readonly payload: Buffer | null;
}

/** The same message, whoever asks: topic, partition and offset. */
export function originKey(origin: MessageOrigin): string {
  return `${origin.topic}/${origin.partition}@${origin.offset}`;
}

@Injectable()
export class SyncErrorRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The origins among these that already have a row, as `originKey`s: one SELECT for all. */
  async findRecorded(origins: readonly MessageOrigin[]): Promise<Set<string>> {
    if (origins.length === 0) return new Set();
    const rows: { topic: string; kafka_partition: number; kafka_offset: number | string }[] =
      await this.dataSource.query(
        'SELECT topic, kafka_partition, kafka_offset FROM sync_errors ' +
          'WHERE (topic, kafka_partition, kafka_offset) IN (?)',
        [origins.map((origin) => [origin.topic, origin.partition, origin.offset])],
      );
    return new Set(
      rows.map((row) =>
        originKey({
          topic: row.topic,
          partition: row.kafka_partition,
          offset: String(row.kafka_offset),
        }),
      ),
    );
  }

  /**
   * One multi-row INSERT, idempotent on (topic, partition, offset): a replayed message is
   * recorded once. Every value is cut to what its column holds, so no row is refused.
   */
  async recordAll(records: readonly DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    const now = new Date();
    await this.dataSource.query(
      'INSERT INTO sync_errors (event_id, topic, kafka_partition, kafka_offset, error_type, ' +
        'error_message, payload, attempts, created_at) VALUES ? ' +
        'ON DUPLICATE KEY UPDATE attempts = attempts',
      [
        records.map((record) => [
          record.eventId !== null && STORABLE_EVENT_ID.test(record.eventId) ? record.eventId : null,
          record.origin.topic,
          record.origin.partition,
          record.origin.offset,
          record.errorType.slice(0, MAX_ERROR_TYPE_CHARS),
          record.errorMessage.slice(0, MAX_STORED_MESSAGE_CHARS),
          record.payload?.subarray(0, MAX_STORED_PAYLOAD_BYTES) ?? null,
          1,
          now,
        ]),
      ],
    );
  }
}
