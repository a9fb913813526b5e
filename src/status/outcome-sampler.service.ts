import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import { MetricsService } from '../metrics/metrics.service';
import { OutcomeRateHistory, type OutcomeRates } from './outcome-rate-history';

export const SAMPLE_INTERVAL_MS = 5000;
const WINDOW_MS = 15 * 60_000;

/**
 * Samples the event counters MetricsService already keeps every SAMPLE_INTERVAL_MS, so that the
 * status page can chart the last 15 minutes without Prometheus. Reading the counters costs the
 * hot path nothing: it counts as it always does.
 */
@Injectable()
export class OutcomeSamplerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutcomeSamplerService.name);
  private readonly history = new OutcomeRateHistory(WINDOW_MS / SAMPLE_INTERVAL_MS);
  private readonly schedule = new PeriodicTask(() => this.sample(), SAMPLE_INTERVAL_MS);

  constructor(private readonly metrics: MetricsService) {}

  onApplicationBootstrap(): void {
    this.schedule.start({ runNow: true });
  }

  async onModuleDestroy(): Promise<void> {
    await this.schedule.stop({ awaitRun: false });
  }

  rates(): OutcomeRates[] {
    return this.history.rates();
  }

  private async sample(): Promise<void> {
    try {
      this.history.record(Date.now(), await this.metrics.outcomeTotals());
    } catch (err) {
      this.logger.debug(`outcome counters not sampled: ${(err as Error).message}`);
    }
  }
}
