import { PrivateMariaDb } from '../support/private-mariadb';
import { freePort } from '../support/service-process';
import { waitFor } from '../support/wait-for';
import { FaultRun, SHARED, syncModes } from './fault-run';

const OUTAGE_MS = 20_000;

/**
 * Fault 4a: the service's MariaDB (a private mariadbd) is killed with SIGKILL mid-stream, stays
 * down for 20 s, then starts again on the same data folder (InnoDB crash recovery). The service
 * must wait it out, stay alive and in its group, and lose nothing.
 */
describe.each(syncModes())('fault 4a, MariaDB down for 20 s (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;
  let mariadb: PrivateMariaDb;

  beforeEach(async () => {
    const port = await freePort();
    run = new FaultRun('4a MariaDB down 20 s', mode, { ...SHARED, dbPort: port });
    mariadb = new PrivateMariaDb(port, run.dir);
    await mariadb.start();
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    await mariadb.stop('SIGKILL');
    run.removeDir();
  });

  it('waits the outage out and loses nothing', async () => {
    await run.begin(0.5);
    await run.waitProgress(0.2);
    await mariadb.stop('SIGKILL');
    const downAt = Date.now();
    await run.produceRest();
    await waitFor(
      '20 s of database outage with every instance still running',
      () => {
        const dead = run.services.find((s) => !s.running);
        if (dead) throw new Error(`${dead.name} exited during the outage:\n${dead.logTail()}`);
        return Date.now() - downAt >= OUTAGE_MS;
      },
      { timeoutMs: OUTAGE_MS + 10_000, intervalMs: 500 },
    );
    await mariadb.start();
    run.faultCleared();
    await run.db.end().catch(() => undefined);
    await run.connectDb();
    const recoveryMs = await run.waitCaughtUp();

    const retries = (run.services[0]?.logText().match(/retrying in/g) ?? []).length;
    const figures = await run.measure(
      `mariadbd SIGKILLed, restarted on its data folder after ${OUTAGE_MS / 1000} s; ` +
        `${retries} retry lines logged`,
      recoveryMs,
    );
    expect(run.services.every((s) => s.running)).toBe(true);
    expect(retries).toBeGreaterThan(0);
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
