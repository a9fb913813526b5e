import { randomBytes } from 'node:crypto';
import type { Pool, PoolConnection } from 'mysql2';
import type { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import type { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';
import { classifyError } from '../src/common/errors/classify-error';
import { TransientError } from '../src/common/errors/transient.error';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { ProcessedEventRepository } from '../src/persistence/processed-event.repository';
import { openDataSource } from '../src/persistence/schema';
import { SqlConnection } from '../src/persistence/sql-connection';
import { parsedEvent, productEvent } from './support/events';
import { freePort } from './support/service-process';
import { TcpProxy } from './support/tcp-proxy';

const DEADLINE_MS = 1500;

/** How long a promise took to settle, and with what. */
async function timed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  try {
    await work;
    return { ms: Date.now() - start, error: undefined };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

/**
 * The pool's deadline against the shared MariaDB behind a TCP proxy of the test's own, whose
 * open connections are frozen (no byte forwarded, nothing closed) while new ones get through.
 */
describe(`DB_STATEMENT_TIMEOUT_MS=${DEADLINE_MS} on the pool TypeORM uses`, () => {
  const database = `cms_sync_test_deadline_${randomBytes(4).toString('hex')}`;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    proxy = new TcpProxy(await freePort(), 3306);
    await proxy.start();
    const config = parseConfig({
      DB_HOST: '127.0.0.1',
      DB_PORT: String(proxy.port),
      DB_DATABASE: database,
      DB_CONNECTION_POOL_SIZE: '2',
      DB_STATEMENT_TIMEOUT_MS: String(DEADLINE_MS),
    });
    dataSource = await openDataSource(dataSourceOptions(config.db));
    pool = (dataSource.driver as MysqlDriver).pool as Pool;
  });

  afterAll(async () => {
    proxy.thaw();
    await dataSource?.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await dataSource?.destroy();
    await proxy?.stop();
  });

  it('fails a frozen transaction as transient within the deadline, then works on a fresh connection', async () => {
    const runner = dataSource.createQueryRunner() as MysqlQueryRunner;
    await runner.startTransaction();
    const frozen = (await runner.connect()) as PoolConnection;
    await runner.query('SELECT COUNT(*) FROM processed_events FOR UPDATE');
    proxy.freezeExisting();
    // A raw driver call on the transaction's own connection, as a repository may make.
    const raw = new Promise((resolve, reject) =>
      frozen.query('SELECT 1', (err, rows) => (err ? reject(err) : resolve(rows))),
    );
    const { ms, error } = await timed(raw);
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(error).toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
    expect(classifyError(error)).toBeInstanceOf(TransientError);
    // ROLLBACK on the destroyed connection fails at once instead of queueing behind the freeze.
    const rollback = await timed(runner.rollbackTransaction());
    expect(rollback.ms).toBeLessThan(500);
    await runner.release();
    expect(
      (pool as unknown as { _allConnections: { toArray(): unknown[] } })._allConnections
        .toArray()
        .includes(frozen),
    ).toBe(false);

    const retried = await timed(
      dataSource.transaction(async (manager) => {
        await manager.query('SELECT 1 AS one');
      }),
    );
    expect(retried.error).toBeUndefined();
    expect(retried.ms).toBeLessThan(DEADLINE_MS);
  });

  it('fails a transaction whose START TRANSACTION gets no answer, and works again after the thaw', async () => {
    proxy.freezeAll();
    try {
      const { ms, error } = await timed(
        dataSource.transaction(async (manager) => {
          await manager.query('SELECT 1');
        }),
      );
      expect(ms).toBeLessThan(2 * DEADLINE_MS + 1000);
      expect(classifyError(error)).toBeInstanceOf(TransientError);
    } finally {
      proxy.thaw();
    }
    const after = await timed(dataSource.query('SELECT 1'));
    expect(after.error).toBeUndefined();
  });

  it('ends the transaction deadline at a COMMIT sent with other statements, as the unit of work sends it', async () => {
    // One SqlConnection transaction: START TRANSACTION with a SELECT, then an INSERT with COMMIT.
    const event = parsedEvent('product', productEvent(1, 1));
    const eventId = event.eventId;
    let used: unknown;
    await SqlConnection.transaction(dataSource, async (db) => {
      used = await db.query('processed_events', 'SELECT CONNECTION_ID() AS id', []);
      new ProcessedEventRepository().record(
        db,
        [event],
        new Map([[eventId, 'applied']]),
        new Date(),
      );
    });
    const [{ id }] = used as [{ id: number }];
    // Idle past the deadline: had its transaction timer survived the COMMIT, it would be gone.
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 500));
    const ids = (await Promise.all(
      [1, 2].map(() => dataSource.query('SELECT CONNECTION_ID() AS id')),
    )) as [{ id: number }][];
    expect(ids.map(([row]) => row.id)).toContain(id);
    expect(
      await dataSource.query('SELECT outcome FROM processed_events WHERE event_id = ?', [eventId]),
    ).toEqual([{ outcome: 'applied' }]);
  });

  it('times each transaction of a session on its own: a session longer than the deadline, each transaction shorter, is not cut', async () => {
    // Three transactions of one row each, 0.6 deadlines apart: 1.8 deadlines in all.
    const events = [1, 2, 3].map((id) => parsedEvent('product', productEvent(100 + id, 1)));
    await SqlConnection.session(dataSource, async (session) => {
      for (const event of events) {
        await session.transaction(async (db) => {
          await db.query('processed_events', 'SELECT 1', []);
          new ProcessedEventRepository().record(
            db,
            [event],
            new Map([[event.eventId, 'applied']]),
            new Date(),
          );
        });
        await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS * 0.6));
      }
    });
    const rows = await dataSource.query<[{ n: string | number }]>(
      'SELECT COUNT(*) AS n FROM processed_events WHERE event_id IN (?)',
      [events.map((event) => event.eventId)],
    );
    expect(Number(rows[0].n)).toBe(3);
  });

  it('gives up waiting for a pooled connection after the deadline', async () => {
    const held = [1, 2].map(() => dataSource.createQueryRunner());
    await Promise.all(held.map((runner) => runner.connect()));
    try {
      const { ms, error } = await timed(dataSource.query('SELECT 1'));
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms).toBeLessThan(DEADLINE_MS + 1000);
      expect(classifyError(error)).toBeInstanceOf(TransientError);
      expect((error as Error).message).toContain('Timeout acquiring a connection');
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
    }
  });
});
