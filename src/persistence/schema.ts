import type { Connection as DriverConnection, Pool, PoolConnection, SslOptions } from 'mysql2';
import { type Connection, createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { guardConnection } from './connection-deadline';

const MIGRATION_LOCK = 'cms-sync:migrations';
const MIGRATION_LOCK_TIMEOUT_S = 120;
const READ_COMMITTED = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';

/**
 * Every pooled connection runs READ COMMITTED: locking reads see the latest commits and take no
 * gap locks, so two instances racing on a new entity conflict on its key instead of deadlocking.
 * Set once per connection, it saves a round trip on every transaction.
 */
async function readCommittedSessions(dataSource: DataSource): Promise<void> {
  const pool = (dataSource.driver as MysqlDriver).pool as Pool;
  pool.on('connection', (connection: PoolConnection) => {
    connection.query(READ_COMMITTED, (err) => {
      // A connection that cannot take the setting is useless: drop it, the pool opens another.
      if (err) connection.destroy();
    });
  });
  // TypeORM opened and released one connection while connecting, before the listener existed.
  await dataSource.query(READ_COMMITTED);
}

/**
 * Waits up to MIGRATION_LOCK_TIMEOUT_S for the named lock in steps shorter than the statement
 * deadline, so that waiting on another instance's migrations is never taken for a dead server.
 */
async function getMigrationLock(
  admin: Connection,
  deadlineMs: number | undefined,
): Promise<boolean> {
  const stepS = Math.max(1, Math.floor((deadlineMs ?? MIGRATION_LOCK_TIMEOUT_S * 2000) / 2000));
  const giveUpAt = Date.now() + MIGRATION_LOCK_TIMEOUT_S * 1000;
  do {
    const [rows] = await admin.query('SELECT GET_LOCK(?, ?) AS got', [MIGRATION_LOCK, stepS]);
    if ((rows as { got: number | null }[])[0]?.got === 1) return true;
  } while (Date.now() < giveUpAt);
  return false;
}

/**
 * Creates the database if it is missing, connects, and (unless turned off) runs pending
 * migrations under a named lock so that instances starting together do not race.
 */
export async function openDataSource(options: MysqlConnectionOptions): Promise<DataSource> {
  const database = options.database ?? '';
  // dataSourceOptions sets connectTimeout to DB_STATEMENT_TIMEOUT_MS: the admin connection keeps
  // the pool's deadline, so a database that stops answering fails the start instead of hanging it.
  const deadlineMs = options.connectTimeout;
  const admin = await createConnection({
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    // The same TLS settings as the pool: a server that requires TLS refuses anything else.
    ssl: options.ssl as SslOptions | undefined,
    connectTimeout: deadlineMs,
  });
  if (deadlineMs !== undefined) {
    // The promise wrapper's callback connection: mysql2's typings leave it out.
    guardConnection((admin as unknown as { connection: DriverConnection }).connection, deadlineMs);
  }
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
    await readCommittedSessions(dataSource);
    if (options.migrationsRun !== true) return dataSource;
    if (!(await getMigrationLock(admin, deadlineMs))) {
      await dataSource.destroy();
      throw new Error(`another instance held the migration lock for ${MIGRATION_LOCK_TIMEOUT_S} s`);
    }
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await admin.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
    }
    return dataSource;
  } finally {
    await admin.end();
  }
}
