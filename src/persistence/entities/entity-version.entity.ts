import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('sync_entity_versions')
export class EntityVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  entity!: string;

  @PrimaryColumn({ name: 'entity_id', type: 'bigint' })
  entityId!: number;

  @Column({ type: 'bigint' })
  version!: number;

  @Column({ type: 'tinyint', width: 1 })
  deleted!: boolean;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
