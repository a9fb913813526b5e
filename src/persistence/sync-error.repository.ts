import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MessageOrigin } from '../domain/sync-event';
import { SyncErrorEntity } from './entities/sync-error.entity';

export const MAX_STORED_PAYLOAD_BYTES = 64 * 1024;

export interface DeadLetterRecord {
  readonly origin: MessageOrigin;
  readonly eventId: string | null;
  readonly errorType: string;
  readonly errorMessage: string;
  readonly payload: Buffer | null;
}

@Injectable()
export class SyncErrorRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async exists(origin: MessageOrigin): Promise<boolean> {
    return this.dataSource.getRepository(SyncErrorEntity).exists({
      where: { topic: origin.topic, kafkaPartition: origin.partition, kafkaOffset: origin.offset },
    });
  }

  /** Idempotent on (topic, partition, offset): a replayed message is recorded once. */
  async record(record: DeadLetterRecord): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(SyncErrorEntity)
      .values({
        eventId: record.eventId,
        topic: record.origin.topic,
        kafkaPartition: record.origin.partition,
        kafkaOffset: record.origin.offset,
        errorType: record.errorType,
        errorMessage: record.errorMessage,
        payload: record.payload?.subarray(0, MAX_STORED_PAYLOAD_BYTES) ?? null,
        attempts: 1,
        createdAt: new Date(),
      })
      .orIgnore()
      .execute();
  }
}
