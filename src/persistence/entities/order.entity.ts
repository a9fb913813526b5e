import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SyncColumns } from './sync-columns';

@Entity('cms_orders')
export class OrderEntity extends SyncColumns {
  @PrimaryColumn({ type: 'bigint' })
  id!: number;

  @Column({ name: 'customer_id', type: 'bigint' })
  customerId!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'total_amount', type: 'decimal', precision: 12, scale: 2 })
  totalAmount!: string;

  @Column({ name: 'placed_at', type: 'datetime', precision: 3 })
  placedAt!: Date;
}
