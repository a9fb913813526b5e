import type { Connection, RowDataPacket } from 'mysql2/promise';
import { PrivateMariaDb } from '../support/private-mariadb';
import { freePort } from '../support/service-process';
import { waitFor } from '../support/wait-for';
import { FaultRun, SHARED, syncModes } from './fault-run';

/** Hot entities for the lock wait timeout: each has ~29 events in the stream. */
const IN_HOT = '(1,2,3,4,5,6,7,8,9,10)';
/** Every product, for the deadlock: any applied product event then runs into the cycle. */
const IN_ALL = `(${Array.from({ length: 40 }, (_, i) => i + 1).join(',')})`;

/**
 * Fault 6: a lock wait timeout and a deadlock forced on the service's own transactions, on a
 * private mariadbd whose innodb_lock_wait_timeout is 2 s (the test's own sessions wait longer).
 * - Lock wait timeout: the test holds the version rows of hot products FOR UPDATE.
 * - Deadlock: the service locks a product's version row, then its cms_products row (in the same
 *   locking read, or when it writes it); the test locks the cms_products rows first, waits until
 *   the service blocks on one, then asks for the version rows: a cycle. The test's transaction first updates ballast rows so that InnoDB,
 *   which rolls back the lighter transaction, picks the service's.
 */
describe.each(syncModes())('fault 6, deadlock and lock wait timeout (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;
  let mariadb: PrivateMariaDb;

  beforeEach(async () => {
    const port = await freePort();
    run = new FaultRun('6 deadlock + lock wait timeout forced', mode, { ...SHARED, dbPort: port });
    mariadb = new PrivateMariaDb(port, run.dir, ['--innodb-lock-wait-timeout=2']);
    await mariadb.start();
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    await mariadb.stop('SIGKILL');
    run.removeDir();
  });

  const logCount = (pattern: RegExp) =>
    run.services.reduce((n, s) => n + (s.logText().match(pattern) ?? []).length, 0);

  async function holdVersionRowsUntilTimeout(db: Connection): Promise<void> {
    await db.query('BEGIN');
    await db.query(
      `SELECT * FROM sync_entity_versions WHERE entity = 'product' AND entity_id IN ${IN_HOT} FOR UPDATE`,
    );
    await waitFor(
      'the service to hit a lock wait timeout',
      () => logCount(/ER_LOCK_WAIT_TIMEOUT/g) > 0,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await db.query('ROLLBACK');
  }

  const outcomes: string[] = [];

  /**
   * One attempt at the cycle; true when InnoDB rolled the service's transaction back. `feed`
   * sends the service more work once the product rows are held, so that it meets them however
   * fast it worked off what came before.
   */
  async function forceDeadlock(db: Connection, feed: () => Promise<void>): Promise<boolean> {
    const before = logCount(/ER_LOCK_DEADLOCK/g);
    const [selfRows] = await db.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    const self = Number(selfRows[0]?.id);
    await db.query('BEGIN');
    try {
      await db.query('UPDATE fault_ballast SET n = n + 1');
      await db.query(`SELECT id FROM cms_products WHERE id IN ${IN_ALL} FOR UPDATE`);
      await feed();
      const blocked = await waitFor(
        'a service transaction waiting for a lock',
        async () => {
          // Every product row is ours: a service lock read or upsert of one running this long
          // waits for us.
          const [rows] = await db.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
              WHERE DB = ? AND ID <> ? AND TIME_MS > 100
                AND (INFO LIKE 'INSERT INTO cms_products%' OR INFO LIKE '%LEFT JOIN cms_products%')`,
            [run.database, self],
          );
          return Number(rows[0]?.n) > 0;
        },
        { timeoutMs: 1_800, intervalMs: 20 },
      ).catch(() => false);
      if (!blocked) {
        outcomes.push('no service transaction blocked');
        return false;
      }
      await db.query(
        `SELECT * FROM sync_entity_versions WHERE entity = 'product' AND entity_id IN ${IN_ALL} FOR UPDATE`,
      );
    } catch (err) {
      // The test's own transaction was the victim (or waited out): try again.
      outcomes.push(`test failed: ${(err as Error).message}`);
    } finally {
      await db.query('ROLLBACK');
    }
    return waitFor(
      'the service to log its deadlock',
      () => logCount(/ER_LOCK_DEADLOCK/g) > before,
      {
        timeoutMs: 3_000,
      },
    ).catch(() => false);
  }

  it('rolls back, retries the whole transaction and loses nothing', async () => {
    await run.begin(0.5);
    await run.query('CREATE TABLE fault_ballast (id INT PRIMARY KEY, n INT) ENGINE=InnoDB');
    // MariaDB's Sequence engine: 500 rows that make the test's transaction the heavier one.
    await run.query('INSERT INTO fault_ballast SELECT seq, 0 FROM seq_1_to_500');
    await run.waitProgress(0.2);
    // The stream is sent in parts so that each conflict meets a busy service: each attempt at
    // the deadlock sends the next 2% while it holds the product rows.
    let sent = 0.5;
    const feed = async () => {
      if (sent >= 0.75) return;
      const to = Math.min(0.75, sent + 0.02);
      await run.produce(sent, to);
      sent = to;
    };
    const locker = await run.connectExtra();
    try {
      await locker.query('SET SESSION innodb_lock_wait_timeout = 30');
      await locker.query(`USE \`${run.database}\``);
      let attempts = 0;
      while (!(await forceDeadlock(locker, feed))) {
        attempts++;
        if (attempts >= 20)
          throw new Error(
            `could not force a deadlock on the service in 20 tries: ${outcomes.join('; ')}`,
          );
      }
      await run.produceRest();
      await holdVersionRowsUntilTimeout(locker);
    } finally {
      await locker.end();
    }
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();

    const deadlocks = logCount(/ER_LOCK_DEADLOCK/g);
    const timeouts = logCount(/ER_LOCK_WAIT_TIMEOUT/g);
    const figures = await run.measure(
      `service logged ${timeouts} lock wait timeout(s) and ${deadlocks} deadlock(s), each retried`,
      recoveryMs,
    );
    expect(timeouts).toBeGreaterThan(0);
    expect(deadlocks).toBeGreaterThan(0);
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
