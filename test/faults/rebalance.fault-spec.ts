import { FaultRun, syncModes } from './fault-run';

/**
 * Fault 2: three instances share the group; mid-stream one is SIGKILLed (its partitions come
 * back only when its session times out), one is SIGTERMed (it leaves the group cleanly) and a
 * fourth joins. Partitions change hands while events are in flight.
 */
describe.each(syncModes())('fault 2, instances killed and added (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;

  beforeEach(async () => {
    run = new FaultRun('2 three instances: SIGKILL one, SIGTERM one, add one', mode);
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    run.removeDir();
  });

  it('loses nothing and applies nothing twice across the rebalances', async () => {
    const [first, second] = [await run.startService(), await run.startService()];
    await run.startService();
    await run.installAudit();
    await run.produce(0, 0.5);
    await run.waitProgress(0.25);
    first.signal('SIGKILL');
    second.signal('SIGTERM');
    const killed = await first.waitExit(10_000);
    const terminated = await second.waitExit(30_000);
    expect(killed.signal).toBe('SIGKILL');
    expect(terminated.code).toBe(0);
    await run.produceRest();
    await run.startService();
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();

    const figures = await run.measure(
      `SIGTERMed instance exited ${terminated.code} after ${terminated.afterSignalMs} ms; ` +
        'session timeout 10 s',
      recoveryMs,
    );
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
