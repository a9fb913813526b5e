import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS_CLIENT } from '../idempotency/redis.constants';

/**
 * Reports whether the Redis cache is connected. Always `up`: Redis only speeds up the duplicate
 * check, the database is the source of truth, so a down cache must not make the service unready.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly healthIndicators: HealthIndicatorService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    return this.healthIndicators.check(key).up({ connected: this.redis.status === 'ready' });
  }
}
