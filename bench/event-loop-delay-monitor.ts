import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TimedSample } from './commit-probe';

/** The longest event-loop delay of this process in each second, as timed samples. */
export class EventLoopDelayMonitor {
  readonly samples: TimedSample[] = [];
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
    this.histogram.disable();
  }

  private sample(): void {
    this.samples.push({ at: Date.now() - 1000, ms: this.histogram.max / 1e6 });
    this.histogram.reset();
  }
}
