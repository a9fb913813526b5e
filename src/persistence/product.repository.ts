import { Injectable } from '@nestjs/common';
import type { ProductData } from '../domain/sync-event';
import { CmsEntityRepository } from './cms-entity.repository';
import type { SqlValue } from './sql-connection';

@Injectable()
export class ProductRepository extends CmsEntityRepository<'product'> {
  readonly table = 'cms_products';
  protected readonly columns = [
    'id',
    'sku',
    'name',
    'description',
    'price',
    'currency',
    'stock',
    'active',
  ];

  protected values(d: ProductData): SqlValue[] {
    return [d.id, d.sku, d.name, d.description, d.price, d.currency, d.stock, d.active];
  }
}
