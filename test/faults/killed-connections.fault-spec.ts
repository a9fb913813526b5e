import { waitFor } from '../support/wait-for';
import { FaultRun, syncModes } from './fault-run';

/** The share of the stream sent before the fault, and at a time while connections are killed. */
const FIRST_SHARE = 0.5;
const SLICE = 0.02;

/**
 * Fault 4b: the service's database connections are killed with KILL CONNECTION while they are
 * inside a transaction (found through information_schema by the test database's name), over and
 * over for several seconds. Only this test's own service's connections are killed.
 */
describe.each(syncModes())('fault 4b, KILL CONNECTION mid-transaction (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;

  beforeEach(async () => {
    run = new FaultRun('4b service connections killed mid-transaction', mode);
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    run.removeDir();
  });

  it('retries the killed transactions and loses nothing', async () => {
    const service = await run.begin(FIRST_SHARE);
    await run.waitProgress(0.2);
    const startedAt = Date.now();
    let kills = 0;
    let insideTransaction = 0;
    // The rest of the stream goes out in slices while the injector runs: sent at once, batch
    // mode could work it off between two of the injector's looks.
    let produced = false;
    const producing = (async () => {
      for (let share = FIRST_SHARE; share < 1; share += SLICE) {
        await run.produce(share, share + SLICE);
      }
      await run.produceRest();
      produced = true;
    })();
    // Batch mode can work off the whole stream before 15 kills; then a few kills mid-stream and
    // a stream worked off despite them is the fault, and the figures below are its proof.
    try {
      await waitFor(
        '15 of the service connections killed while busy over at least 5 s, or 3 before the stream was done',
        async () => {
          // Busy: running a statement or holding an open InnoDB transaction (the service runs
          // every statement inside one).
          const busy = await run.query<{ id: string; inTrx: string }>(
            `SELECT p.ID AS id, t.trx_id IS NOT NULL AS inTrx
             FROM information_schema.PROCESSLIST p
             LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
            WHERE p.DB = ? AND p.ID <> CONNECTION_ID()
              AND (t.trx_id IS NOT NULL OR p.COMMAND <> 'Sleep')`,
            [run.database],
          );
          for (const { id, inTrx } of busy) {
            try {
              await run.db.query(`KILL CONNECTION ${Number(id)}`);
              kills++;
              if (Number(inTrx) === 1) insideTransaction++;
            } catch {
              // It ended between the look-up and the kill.
            }
          }
          if (kills >= 15 && Date.now() - startedAt >= 5_000) return true;
          return kills >= 3 && produced && busy.length === 0 && (await run.lag()) === 0;
        },
        { timeoutMs: 90_000, intervalMs: 20 },
      );
    } finally {
      await producing;
    }
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();

    const retries = (service.logText().match(/retrying in/g) ?? []).length;
    const figures = await run.measure(
      `${kills} busy connections killed (${insideTransaction} with an open InnoDB transaction); ` +
        `${retries} retry lines logged`,
      recoveryMs,
    );
    expect(service.running).toBe(true);
    expect(retries).toBeGreaterThan(0);
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
