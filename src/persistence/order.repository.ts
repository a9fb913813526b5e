import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { OrderData, UpsertEvent } from '../domain/sync-event';
import { CmsEntityRepository } from './cms-entity.repository';
import { deleteWhereIn, insertRows, type SqlValue } from './sql';

const ITEMS_TABLE = 'cms_order_items';
const ITEM_COLUMNS = ['order_id', 'line_no', 'product_id', 'quantity', 'unit_price'];

@Injectable()
export class OrderRepository extends CmsEntityRepository<'order'> {
  protected readonly table = 'cms_orders';
  protected readonly columns = [
    'id',
    'customer_id',
    'status',
    'currency',
    'total_amount',
    'placed_at',
  ];

  protected values(d: OrderData): SqlValue[] {
    return [d.id, d.customerId, d.status, d.currency, d.totalAmount, d.placedAt];
  }

  /** An applied order event replaces the order's whole item set. */
  override async upsert(
    em: EntityManager,
    events: readonly UpsertEvent<'order'>[],
    syncedAt: Date,
  ): Promise<void> {
    await super.upsert(em, events, syncedAt);
    await deleteWhereIn(
      em,
      ITEMS_TABLE,
      'order_id',
      events.map((event) => event.entityId),
    );
    const items = events.flatMap((event) =>
      event.data.items.map((item, lineNo) => [
        event.entityId,
        lineNo,
        item.productId,
        item.quantity,
        item.unitPrice,
      ]),
    );
    await insertRows(em, ITEMS_TABLE, ITEM_COLUMNS, items);
  }

  override async delete(em: EntityManager, ids: readonly number[]): Promise<void> {
    await deleteWhereIn(em, ITEMS_TABLE, 'order_id', ids);
    await super.delete(em, ids);
  }
}
