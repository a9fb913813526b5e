import { Column } from 'typeorm';

/** Columns every entity table carries next to its own (contract section 3). */
export abstract class SyncColumns {
  @Column({ name: 'source_version', type: 'bigint' })
  sourceVersion!: number;

  @Column({ name: 'source_occurred_at', type: 'datetime', precision: 3 })
  sourceOccurredAt!: Date;

  @Column({ name: 'synced_at', type: 'datetime', precision: 3 })
  syncedAt!: Date;
}
