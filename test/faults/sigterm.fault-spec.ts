import { FaultRun, syncModes } from './fault-run';

const SHUTDOWN_TIMEOUT_MS = 20_000;

/**
 * Fault 7: SIGTERM while the service is busy with a stream. It must finish or give back what is
 * in flight, commit, leave the group and exit 0 within SHUTDOWN_TIMEOUT_MS; a restart resumes
 * from the committed offsets with nothing lost.
 */
describe.each(syncModes())('fault 7, SIGTERM during a busy stream (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;

  beforeEach(async () => {
    run = new FaultRun('7 SIGTERM mid-stream, restart', mode);
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    run.removeDir();
  });

  it('exits 0 within the shutdown timeout and a restart loses nothing', async () => {
    const env = { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
    const service = await run.begin(1, env);
    await run.waitProgress(0.25);
    const before = await run.processedCount();
    service.signal('SIGTERM');
    const exit = await service.waitExit(SHUTDOWN_TIMEOUT_MS + 10_000);
    const atExit = await run.processedCount();
    expect(exit).toEqual(expect.objectContaining({ code: 0, signal: null }));
    expect(exit.afterSignalMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // The stream was still busy: the service stopped part-way, not after the end.
    expect(atExit).toBeLessThan(run.stream.validEventIds.size);

    await run.startService(env);
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();

    const figures = await run.measure(
      `exit ${exit.code} ${exit.afterSignalMs} ms after SIGTERM (limit ${SHUTDOWN_TIMEOUT_MS}); ` +
        `${atExit - before} events recorded during shutdown`,
      recoveryMs,
    );
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
