import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { type ConsumerState, ConsumerStatus } from './consumer-status';

const WHY_DOWN: Partial<Record<ConsumerState, string>> = {
  starting: 'consumer has not joined its group yet',
  rebalancing: 'consumer has not joined its group yet',
  restarting: 'consumer has not joined its group yet',
  crashed: 'consumer crashed and will not restart',
  stopped: 'consumer stopped',
};

/** Up while the Kafka consumer is in its group (see `ConsumerStatus` for what counts). */
@Injectable()
export class KafkaConsumerHealthIndicator {
  constructor(
    private readonly healthIndicators: HealthIndicatorService,
    private readonly status: ConsumerStatus,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const indicator = this.healthIndicators.check(key);
    const { state, ready, lastError } = this.status.snapshot();
    const details: { state: ConsumerState; lastError?: string } =
      lastError === undefined ? { state } : { state, lastError };
    if (ready) return indicator.up(details);
    return indicator.down({ ...details, message: WHY_DOWN[state] ?? 'consumer not ready' });
  }
}
