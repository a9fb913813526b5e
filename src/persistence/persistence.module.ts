import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { CustomerRepository } from './customer.repository';
import { dataSourceOptions } from './data-source-options';
import { EntityVersionRepository } from './entity-version.repository';
import { OrderRepository } from './order.repository';
import { ProcessedEventRepository } from './processed-event.repository';
import { ProductRepository } from './product.repository';
import { openDataSource } from './schema';
import { SyncErrorRepository } from './sync-error.repository';

const REPOSITORIES = [
  ProductRepository,
  CustomerRepository,
  OrderRepository,
  ProcessedEventRepository,
  EntityVersionRepository,
  SyncErrorRepository,
];

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => dataSourceOptions(config.db),
      dataSourceFactory: (options) => openDataSource(options as MysqlConnectionOptions),
    }),
  ],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class PersistenceModule {}
