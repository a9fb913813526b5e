import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('cms_order_items')
export class OrderItemEntity {
  @PrimaryColumn({ name: 'order_id', type: 'bigint' })
  orderId!: number;

  @PrimaryColumn({ name: 'line_no', type: 'int' })
  lineNo!: number;

  @Column({ name: 'product_id', type: 'bigint' })
  productId!: number;

  @Column({ type: 'int' })
  quantity!: number;

  @Column({ name: 'unit_price', type: 'decimal', precision: 12, scale: 2 })
  unitPrice!: string;
}
