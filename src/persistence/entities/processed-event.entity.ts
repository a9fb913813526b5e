import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('processed_events')
export class ProcessedEventEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 128 })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType!: string;

  @Column({ name: 'entity_id', type: 'bigint' })
  entityId!: number;

  @Column({ type: 'bigint' })
  version!: number;

  @Column({ type: 'varchar', length: 16 })
  outcome!: 'applied' | 'stale';

  @Column({ type: 'varchar', length: 249 })
  topic!: string;

  @Column({ name: 'kafka_partition', type: 'int' })
  kafkaPartition!: number;

  @Column({ name: 'kafka_offset', type: 'bigint' })
  kafkaOffset!: string;

  @Column({ name: 'processed_at', type: 'datetime', precision: 3 })
  processedAt!: Date;
}
