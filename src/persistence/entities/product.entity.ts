import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SyncColumns } from './sync-columns';

@Entity('cms_products')
export class ProductEntity extends SyncColumns {
  @PrimaryColumn({ type: 'bigint' })
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  sku!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'mediumtext', nullable: true })
  description!: string | null;

  @Column({ type: 'decimal', precision: 12, scale: 2 })
  price!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ type: 'int' })
  stock!: number;

  @Column({ type: 'tinyint', width: 1 })
  active!: boolean;
}
