import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { readDbPoolConnections } from './db-pool-connections';
import { MetricsService } from './metrics.service';

/** Feeds sync_db_pool_connections from the real mysql2 pool behind TypeORM. */
@Injectable()
export class DbPoolMetricsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.watchDbPool(() => {
      // The driver drops its pool when the data source is destroyed: the gauge goes empty.
      const pool: unknown = this.dataSource.isInitialized
        ? (this.dataSource.driver as MysqlDriver).pool
        : undefined;
      return readDbPoolConnections(pool);
    });
  }
}
