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

const TABLE = 'cms_products';
const COLUMNS = [
  'id',
  'sku',
  'name',
  'description',
  'price',
  'currency',
  'stock',
  'active',
  ...SYNC_COLUMNS,
];

@Injectable()
export class ProductRepository implements CmsEntityRepository<'product'> {
  async upsert(
    em: EntityManager,
    events: readonly UpsertEvent<'product'>[],
    syncedAt: Date,
  ): Promise<void> {
    const rows = events.map((event) => {
      const d = event.data;
      return [
        d.id,
        d.sku,
        d.name,
        d.description,
        d.price,
        d.currency,
        d.stock,
        d.active,
        ...syncValues(event, syncedAt),
      ];
    });
    await insertRows(em, TABLE, COLUMNS, rows, nonKey(COLUMNS));
  }

  async delete(em: EntityManager, ids: readonly number[]): Promise<void> {
    await deleteWhereIn(em, TABLE, 'id', ids);
  }
}
