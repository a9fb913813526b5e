import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createConnection } from 'mysql2/promise';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { productEvent, type TestEvent } from './support/events';
import { PrivateMariaDb } from './support/private-mariadb';
import { freePort } from './support/service-process';
import { BROKERS, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/**
 * A rebalance while a handler waits out a database outage in the retry loop, heartbeating: the
 * heartbeat's REBALANCE_IN_PROGRESS must reach kafkajs as its own error (not Nest's
 * `{ status, message }`), so that it rejoins at once and logs no error-level line. The database
 * is a private mariadbd of this test's own, stopped and started again; the group rebalances
 * because a second consumer joins it and later leaves.
 */
describe('a rebalance during a long retry (private MariaDB, real Kafka and Redis)', () => {
  const ctx = new TestContext();
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-rebalance-'));
  const kafka = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING });
  let mariadb: PrivateMariaDb;
  const error = jest.spyOn(PinoNestLogger.prototype, 'error');
  const fatal = jest.spyOn(PinoNestLogger.prototype, 'fatal');
  const warn = jest.spyOn(PinoNestLogger.prototype, 'warn');
  const lines = (spy: typeof warn) => spy.mock.calls.map((call) => JSON.stringify(call[0]));
  const rejoins = () => lines(warn).filter((line) => line.includes('re-joining')).length;

  beforeAll(async () => {
    mariadb = new PrivateMariaDb(await freePort(), dir);
    await mariadb.start();
    await ctx.setUp(2);
    await ctx.startService({
      DB_HOST: '127.0.0.1',
      DB_PORT: String(mariadb.port),
      RETRY_MAX_DELAY_MS: '1000',
    });
  });

  afterAll(async () => {
    await ctx.tearDown();
    await mariadb.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  /** A fresh connection each time: the database is killed in between. */
  async function applied(events: readonly TestEvent[]): Promise<number> {
    const db = await createConnection({
      host: '127.0.0.1',
      port: mariadb.port,
      user: 'root',
      password: '',
      database: ctx.database,
    });
    try {
      const [rows] = await db.query(
        "SELECT COUNT(*) AS n FROM processed_events WHERE outcome = 'applied' AND event_id IN (?)",
        [events.map((event) => event.eventId)],
      );
      return Number((rows as { n: number }[])[0]?.n);
    } finally {
      await db.end();
    }
  }

  it('rejoins without an error-level line and applies everything once the database is back', async () => {
    // Sends: one valid product (applied while the database is up), then, with the database
    // stopped, four valid products over both partitions.
    const first = productEvent(1, 1);
    await ctx.publish('product', [first]);
    await waitFor('the first product applied', async () => (await applied([first])) === 1);

    await mariadb.stop('SIGKILL');
    const during = [2, 3, 4, 5].map((id) => productEvent(id, 1));
    await ctx.publish('product', during);
    await waitFor('the handler retrying against the stopped database', () =>
      lines(warn).some((line) => line.includes('retrying in')),
    );

    // A second member joins the group and holds its share without committing anything.
    const interloper = kafka.consumer({ groupId: ctx.groupId, allowAutoTopicCreation: false });
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let interloperJoined = false;
    interloper.on(interloper.events.GROUP_JOIN, () => (interloperJoined = true));
    await interloper.connect();
    try {
      await interloper.subscribe({ topics: Object.values(ctx.topics), fromBeginning: true });
      await interloper.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: () => held,
      });
      await waitFor('the second member in the group', () => interloperJoined);
      await waitFor('the service rejoining after the rebalance', () => rejoins() >= 1);
    } finally {
      release();
      await interloper.disconnect();
    }

    await mariadb.start();
    await waitFor(
      'every product applied',
      async () => (await applied([first, ...during])) === during.length + 1,
      { timeoutMs: 90_000 },
    );
    expect([...lines(error), ...lines(fatal)]).toEqual([]);
  });
});
