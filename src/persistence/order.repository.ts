import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { UpsertEvent } from '../sync/domain/sync-event';
import {
  type CmsEntityRepository,
  nonKey,
  SYNC_COLUMNS,
  syncValues,
} from './cms-entity-repository';
import { deleteWhereIn, insertRows } from './sql';

const TABLE = 'cms_orders';
const ITEMS_TABLE = 'cms_order_items';
const COLUMNS = [
  'id',
  'customer_id',
  'status',
  'currency',
  'total_amount',
  'placed_at',
  ...SYNC_COLUMNS,
];
const ITEM_COLUMNS = ['order_id', 'line_no', 'product_id', 'quantity', 'unit_price'];

@Injectable()
export class OrderRepository implements CmsEntityRepository<'order'> {
  /** An applied order event replaces the order's whole item set. */
  async upsert(
    em: EntityManager,
    events: readonly UpsertEvent<'order'>[],
    syncedAt: Date,
  ): Promise<void> {
    const rows = events.map((event) => {
      const d = event.data;
      return [
        d.id,
        d.customerId,
        d.status,
        d.currency,
        d.totalAmount,
        d.placedAt,
        ...syncValues(event, syncedAt),
      ];
    });
    await insertRows(em, TABLE, COLUMNS, rows, nonKey(COLUMNS));
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

  async delete(em: EntityManager, ids: readonly number[]): Promise<void> {
    await deleteWhereIn(em, ITEMS_TABLE, 'order_id', ids);
    await deleteWhereIn(em, TABLE, 'id', ids);
  }
}
