/**
 * Runs `task` every `intervalMs` on an unref'd timer (the schedule alone never keeps the process
 * alive), never two runs at once: a call while a run is in flight joins that run. `task` must
 * not reject; it handles and logs its own failures so that the next tick simply tries again.
 */
export class PeriodicTask<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;
  private stoppedFlag = false;

  constructor(
    private readonly task: () => Promise<T>,
    private readonly intervalMs: number,
  ) {}

  /** True once `stop` was called: a long run checks it between steps to end early. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  start({ runNow }: { runNow: boolean }): void {
    if (runNow) void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  runOnce(): Promise<T> {
    this.running ??= this.task().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the schedule; with `awaitRun`, also waits for a run in flight to end. */
  async stop({ awaitRun }: { awaitRun: boolean }): Promise<void> {
    this.stoppedFlag = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (awaitRun) await this.running?.catch(() => undefined);
  }
}
