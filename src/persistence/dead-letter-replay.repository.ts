import type { DataSource } from 'typeorm';

/** An unresolved sync_errors row, as `npm run dlq:replay` republishes it. */
export interface UnresolvedDeadLetter {
  id: string | number;
  kafka_partition: number;
  kafka_offset: string | number;
  error_type: string;
  payload: Buffer | null;
  created_at: Date;
}

/** The sync_errors queries of `npm run dlq:replay`. */
export class DeadLetterReplayRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The unresolved rows of one source topic, oldest first; with `since`, created from then on. */
  async unresolved(topic: string, since: Date | undefined): Promise<UnresolvedDeadLetter[]> {
    return this.dataSource.query(
      `SELECT id, kafka_partition, kafka_offset, error_type, payload, created_at
         FROM sync_errors
        WHERE topic = ? AND resolved_at IS NULL${since === undefined ? '' : ' AND created_at >= ?'}
        ORDER BY created_at, id`,
      since === undefined ? [topic] : [topic, since],
    );
  }

  async markResolved(id: string | number, resolvedAt: Date): Promise<void> {
    await this.dataSource.query(
      'UPDATE sync_errors SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL',
      [resolvedAt, id],
    );
  }
}
