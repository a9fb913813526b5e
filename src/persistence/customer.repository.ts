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

const TABLE = 'cms_customers';
const COLUMNS = ['id', 'email', 'first_name', 'last_name', 'phone', 'status', ...SYNC_COLUMNS];

@Injectable()
export class CustomerRepository implements CmsEntityRepository<'customer'> {
  async upsert(
    em: EntityManager,
    events: readonly UpsertEvent<'customer'>[],
    syncedAt: Date,
  ): Promise<void> {
    const rows = events.map((event) => {
      const d = event.data;
      return [
        d.id,
        d.email,
        d.firstName,
        d.lastName,
        d.phone,
        d.status,
        ...syncValues(event, syncedAt),
      ];
    });
    await insertRows(em, TABLE, COLUMNS, rows, nonKey(COLUMNS));
  }

  async delete(em: EntityManager, ids: readonly number[]): Promise<void> {
    await deleteWhereIn(em, TABLE, 'id', ids);
  }
}
