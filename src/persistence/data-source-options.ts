import type { ConnectionOptions } from 'node:tls';
import { format } from 'mysql2';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import type { AppConfig } from '../config/app-config';
import { mysql2WithDeadline } from './connection-deadline';
import { TypeOrmSlowQueryLogger } from '../logging/typeorm-slow-query.logger';
import { CustomerEntity } from './entities/customer.entity';
import { EntityVersionEntity } from './entities/entity-version.entity';
import { OrderItemEntity } from './entities/order-item.entity';
import { OrderEntity } from './entities/order.entity';
import { ProcessedEventEntity } from './entities/processed-event.entity';
import { ProductEntity } from './entities/product.entity';
import { SyncErrorEntity } from './entities/sync-error.entity';
import { InitialSchema1763900000000 } from './migrations/1763900000000-initial-schema';

export const ENTITIES = [
  ProductEntity,
  CustomerEntity,
  OrderEntity,
  OrderItemEntity,
  ProcessedEventEntity,
  SyncErrorEntity,
  EntityVersionEntity,
];

export const MIGRATIONS = [InitialSchema1763900000000];

/** One definition of the connection, shared by the service and `npm run migration:run`. */
export function dataSourceOptions(db: AppConfig['db']): MysqlConnectionOptions {
  return {
    type: 'mysql',
    connectorPackage: 'mysql2',
    // mysql2 whose pools bound every round trip, transaction and connection wait (see
    // connection-deadline.ts); openDataSource reads connectTimeout as that deadline too.
    driver: mysql2WithDeadline(db.statementTimeoutMs),
    connectTimeout: db.statementTimeoutMs,
    host: db.host,
    port: db.port,
    username: db.username,
    password: db.password,
    database: db.database,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    // Run by openDataSource under a lock, not by TypeORM itself.
    migrationsRun: db.migrationsRun,
    synchronize: false,
    poolSize: db.poolSize,
    // Every DATETIME column holds UTC, whatever the server's or the container's zone.
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: false,
    // TypeORM calls the logger's logQuerySlow for statements over this many ms.
    maxQueryExecutionTime: db.slowQueryThresholdMs,
    logger: new TypeOrmSlowQueryLogger(db.slowQueryThresholdMs),
    ssl: tlsOptions(db.ssl),
    extra: {
      enableKeepAlive: true,
      waitForConnections: true,
      queueLimit: 0,
      queryFormat: formatQuery,
    },
    // The unit of work sends a transaction's statements in two round trips (see SqlConnection);
    // every value in them is escaped by mysql2 or written to its rules (SqlValuesWriter), and
    // every name is the code's own.
    multipleStatements: true,
  };
}

/**
 * mysql2's own formatting, less its scan of a statement with no values for placeholders to fill:
 * the unit of work sends its round trips formatted already (see SqlConnection), up to ~100 KB of
 * text each, and mysql2 would scan all of it to change nothing. 0.8 µs of CPU per event in
 * batch mode (profile). mysql2 calls it with the connection as `this` and its time zone.
 */
export function formatQuery(
  this: { config: { stringifyObjects?: boolean } },
  sql: string,
  values: unknown,
  timezone: string,
): string {
  if (values === undefined || values === null || (Array.isArray(values) && values.length === 0)) {
    return sql;
  }
  return format(
    sql,
    values as Parameters<typeof format>[1],
    this.config.stringifyObjects,
    timezone,
  );
}

/** mysql2's TLS options: checks on unless turned off explicitly (bootstrap logs that choice). */
function tlsOptions(ssl: AppConfig['db']['ssl']): ConnectionOptions | undefined {
  if (ssl === null) return undefined;
  return {
    rejectUnauthorized: ssl.rejectUnauthorized,
    ...(ssl.ca === null ? {} : { ca: ssl.ca.pem }),
  };
}
