import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  it('joins a call made while a run is in flight instead of starting a second run', async () => {
    let runs = 0;
    let finish: (value: number) => void = () => undefined;
    const task = new PeriodicTask(
      () =>
        new Promise<number>((resolve) => {
          runs++;
          finish = resolve;
        }),
      60_000,
    );
    const first = task.runOnce();
    const second = task.runOnce();
    expect(second).toBe(first);
    finish(7);
    expect(await first).toBe(7);
    expect(runs).toBe(1);
    void task.runOnce();
    expect(runs).toBe(2);
    finish(8);
    await task.stop({ awaitRun: true });
  });

  it('runs at once when asked, and stop ends the schedule and waits for the run', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const task = new PeriodicTask(
      () =>
        new Promise<void>((resolve) => {
          runs++;
          release = resolve;
        }),
      60_000,
    );
    task.start({ runNow: true });
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = task.stop({ awaitRun: true }).then(() => (stopped = true));
    expect(task.stopped).toBe(true);
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
  });
});
