import { Injectable } from '@nestjs/common';
import type { CustomerData } from '../domain/sync-event';
import { CmsEntityRepository } from './cms-entity.repository';
import type { SqlValue } from './sql-connection';

@Injectable()
export class CustomerRepository extends CmsEntityRepository<'customer'> {
  readonly table = 'cms_customers';
  protected readonly columns = ['id', 'email', 'first_name', 'last_name', 'phone', 'status'];

  protected values(d: CustomerData): SqlValue[] {
    return [d.id, d.email, d.firstName, d.lastName, d.phone, d.status];
  }
}
