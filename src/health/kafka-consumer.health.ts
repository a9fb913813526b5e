import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { MetricsService } from '../metrics/metrics.service';
import { type ConsumerState, ConsumerStatus } from './consumer-status';

const WHY_DOWN: Partial<Record<ConsumerState, string>> = {
  starting: 'consumer has not joined its group yet',
  rebalancing: 'consumer has not joined its group yet',
  restarting: 'consumer has not joined its group yet',
  crashed: 'consumer crashed and will not restart',
  stopped: 'consumer stopped',
};

/**
 * Up while the Kafka consumer is in its group (see `ConsumerStatus` for what counts) and, when
 * messages wait, has fetched within READY_MAX_FETCH_AGE_MS: a consumer that stays a member but
 * no longer fetches is stuck, and only the orchestrator can unstick it.
 */
@Injectable()
export class KafkaConsumerHealthIndicator {
  constructor(
    private readonly healthIndicators: HealthIndicatorService,
    private readonly status: ConsumerStatus,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.healthIndicators.check(key);
    const { state, ready, lastError, lastFetchAgeMs } = this.status.snapshot();
    const details: { state: ConsumerState; lastError?: string } =
      lastError === undefined ? { state } : { state, lastError };
    if (!ready) {
      return indicator.down({ ...details, message: WHY_DOWN[state] ?? 'consumer not ready' });
    }
    const maxAge = this.config.readyMaxFetchAgeMs;
    if (lastFetchAgeMs !== undefined && lastFetchAgeMs > maxAge) {
      const lag = await this.metrics.consumerLagTotal();
      if (lag > 0) {
        return indicator.down({
          ...details,
          message: `no fetch for ${lastFetchAgeMs} ms while ${lag} messages wait`,
        });
      }
    }
    return indicator.up(details);
  }
}
