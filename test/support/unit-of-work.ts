import type { DataSource } from 'typeorm';
import { CustomerRepository } from '../../src/persistence/customer.repository';
import { EntityVersionRepository } from '../../src/persistence/entity-version.repository';
import { OrderRepository } from '../../src/persistence/order.repository';
import { ProcessedEventRepository } from '../../src/persistence/processed-event.repository';
import { ProductRepository } from '../../src/persistence/product.repository';
import { SyncUnitOfWork } from '../../src/sync/sync-unit-of-work';

/** The service's unit of work outside Nest, on any data source (the tests' and the bench's). */
export function unitOfWorkFor(dataSource: DataSource): SyncUnitOfWork {
  return new SyncUnitOfWork(
    dataSource,
    new ProcessedEventRepository(),
    new EntityVersionRepository(),
    new ProductRepository(),
    new CustomerRepository(),
    new OrderRepository(),
  );
}
