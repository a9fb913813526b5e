import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('sync_errors')
export class SyncErrorEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 128, nullable: true })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 249 })
  topic!: string;

  @Column({ name: 'kafka_partition', type: 'int' })
  kafkaPartition!: number;

  @Column({ name: 'kafka_offset', type: 'bigint' })
  kafkaOffset!: string;

  @Column({ name: 'error_type', type: 'varchar', length: 64 })
  errorType!: string;

  @Column({ name: 'error_message', type: 'text' })
  errorMessage!: string;

  @Column({ type: 'mediumblob', nullable: true })
  payload!: Buffer | null;

  @Column({ type: 'int', default: 1 })
  attempts!: number;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'resolved_at', type: 'datetime', precision: 3, nullable: true })
  resolvedAt!: Date | null;
}
