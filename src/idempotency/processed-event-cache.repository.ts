import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG } from '../config/config.constants';
import type { AppConfig } from '../config/app-config';
import { TransientError } from '../common/errors/transient.error';
import { MetricsService } from '../metrics/metrics.service';
import type { EntityKind } from '../domain/entity-kind';
import type { RecordedOutcome } from '../domain/sync-outcome';
import { CircuitBreaker, CircuitOpenError, type CircuitStateChange } from './circuit-breaker';
import { REDIS_CLIENT } from './redis.constants';
import { unlinkMatching } from './unlink-matching';

export const cacheKey = (eventId: string) => `processed:event:${eventId}`;

/**
 * ARGV holds groups of three, a value, a TTL in seconds and a count; each group SETs the next
 * `count` KEYS to its value with its TTL.
 */
const MARK_PROCESSED_SCRIPT = `local k = 0
for g = 1, #ARGV, 3 do
  for i = k + 1, k + tonumber(ARGV[g + 2]) do redis.call('SET', KEYS[i], ARGV[g], 'EX', ARGV[g + 1]) end
  k = k + tonumber(ARGV[g + 2])
end`;

export interface CacheEntry {
  readonly eventId: string;
  readonly kind: EntityKind;
  readonly outcome: RecordedOutcome;
}

/**
 * The Redis half of the idempotency check. Redis is a cache, never the source of truth: every
 * failure surfaces as a TransientError that the caller treats as a miss.
 *
 * A circuit breaker stands in front of every call: after `REDIS_BREAKER_FAILURES` failures in a
 * row Redis is not called at all for `REDIS_BREAKER_COOLDOWN_MS` (calls fail at once with
 * "circuit open"), then one trial call decides whether to use it again.
 */
@Injectable()
export class ProcessedEventCacheRepository implements OnApplicationShutdown {
  private readonly logger = new Logger(ProcessedEventCacheRepository.name);
  private readonly breaker: CircuitBreaker;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.breaker = new CircuitBreaker({
      failureThreshold: config.redisBreaker.failures,
      cooldownMs: config.redisBreaker.cooldownMs,
      onStateChange: (change) => this.circuitChanged(change),
    });
    this.metrics.setRedisCircuitOpen(false);
  }

  /** The ids among `eventIds` that Redis remembers as processed: one round trip for any number. */
  async findProcessed(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const values = await this.call('idempotency lookup', () =>
      this.redis.mget(eventIds.map(cacheKey)),
    );
    return new Set(eventIds.filter((_, i) => values[i] !== null));
  }

  /**
   * Remembers events after their transaction committed, each with its entity's TTL: one SET, or
   * for several one script that SETs them all (one command instead of one per event, which was
   * most of the client's work and garbage per event in batch mode).
   */
  async markProcessed(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ttl = this.config.redis.ttlSeconds;
    const [only] = entries;
    if (entries.length === 1 && only !== undefined) {
      await this.call('idempotency write', () =>
        this.redis.set(cacheKey(only.eventId), only.outcome, 'EX', ttl[only.kind]),
      );
      return;
    }
    // Keys grouped by value and TTL (a chunk has one kind and mostly one outcome): ioredis
    // copies and measures every argument of a command, about 0.3 µs each.
    const groups: { value: string; seconds: number; keys: string[] }[] = [];
    for (const { eventId, kind, outcome } of entries) {
      const seconds = ttl[kind];
      let group = groups.find((g) => g.value === outcome && g.seconds === seconds);
      if (group === undefined) groups.push((group = { value: outcome, seconds, keys: [] }));
      group.keys.push(cacheKey(eventId));
    }
    const keys: string[] = [];
    const args: string[] = [];
    for (const group of groups) {
      keys.push(...group.keys);
      args.push(group.value, String(group.seconds), String(group.keys.length));
    }
    // A refused SET (OOM, a read-only replica) fails the script: a failure of Redis too.
    await this.call('idempotency write', () =>
      this.redis.eval(MARK_PROCESSED_SCRIPT, keys.length, [...keys, ...args]),
    );
  }

  /** One Redis round trip through the breaker; every failure becomes a TransientError. */
  private async call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(command);
    } catch (err) {
      if (err instanceof CircuitOpenError) {
        throw new TransientError('redis', `${what} skipped: ${err.message}`, { cause: err });
      }
      throw new TransientError('redis', `${what} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Logs changes of state only, never per event: a trial that fails again is debug. */
  private circuitChanged({ from, to, failures, error }: CircuitStateChange): void {
    this.metrics.setRedisCircuitOpen(to !== 'closed');
    const { cooldownMs } = this.config.redisBreaker;
    if (from === 'closed' && to === 'open') {
      const cause = error instanceof Error ? `: ${error.message}` : '';
      this.logger.warn(
        `circuit open after ${failures} consecutive Redis failures${cause}; Redis is skipped ` +
          `(idempotency through the database alone), next trial in ${cooldownMs} ms`,
      );
    } else if (to === 'closed') {
      this.logger.log('circuit closed: Redis answered the trial call, the cache is used again');
    } else {
      this.logger.debug(`circuit ${from} -> ${to}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.redis.quit();
    } catch (err) {
      this.logger.warn(`Redis did not close cleanly: ${(err as Error).message}`);
      this.redis.disconnect();
    }
  }

  /**
   * Removes every idempotency key (`batchSize` keys a round trip) and returns how many were
   * removed; with `dryRun` only counts them (see unlinkMatching). Straight to Redis, not through
   * the breaker: the caller is an operator tool that wants the error, not a miss.
   */
  removeAll(batchSize: number, dryRun = false): Promise<number> {
    return unlinkMatching(this.redis, `${cacheKey('')}*`, batchSize, dryRun);
  }
}
