import { PrivateRedis } from '../support/private-redis';
import { freePort } from '../support/service-process';
import { waitFor } from '../support/wait-for';
import { FaultRun, SHARED, syncModes } from './fault-run';

const OUTAGE_MS = 20_000;

/**
 * Fault 5: the service's Redis (a private redis-server) is killed mid-stream for 20 s, then
 * started again. Syncing must carry on through the database check alone meanwhile.
 */
describe.each(syncModes())('fault 5, Redis down for 20 s (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;
  let redis: PrivateRedis;

  beforeEach(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    run = new FaultRun('5 Redis down 20 s', mode, { ...SHARED, redisPort: redis.port });
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    await redis.kill();
    run.removeDir();
  });

  it('keeps syncing without Redis and loses nothing', async () => {
    await run.begin(0.5);
    await run.waitProgress(0.2);
    await redis.kill();
    const downAt = Date.now();
    const atKill = await run.processedCount();
    await run.produceRest();
    // The outage lasts 20 s, and events must keep being recorded during it.
    const duringOutage = await waitFor(
      'events recorded with Redis down, for 20 s',
      async () => {
        const progress = (await run.processedCount()) - atKill;
        return Date.now() - downAt >= OUTAGE_MS && progress > 0 && progress;
      },
      { timeoutMs: OUTAGE_MS + 30_000, intervalMs: 500 },
    );
    await redis.start();
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();

    const figures = await run.measure(
      `${duringOutage} events recorded while Redis was down`,
      recoveryMs,
    );
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
