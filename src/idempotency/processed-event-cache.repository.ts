import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG } from '../config/config.constants';
import type { AppConfig } from '../config/app-config';
import { TransientError } from '../common/errors/transient.error';
import type { EntityKind } from '../sync/domain/entity-kind';
import type { RecordedOutcome } from '../sync/domain/sync-outcome';
import { REDIS_CLIENT } from './redis.constants';

export const cacheKey = (eventId: string) => `processed:event:${eventId}`;

export interface CacheEntry {
  readonly eventId: string;
  readonly kind: EntityKind;
  readonly outcome: RecordedOutcome;
}

/**
 * The Redis half of the idempotency check. Redis is a cache, never the source of truth: every
 * failure surfaces as a TransientError that the caller treats as a miss.
 */
@Injectable()
export class ProcessedEventCacheRepository implements OnApplicationShutdown {
  private readonly logger = new Logger(ProcessedEventCacheRepository.name);

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The ids among `eventIds` that Redis remembers as processed: one round trip for any number. */
  async findProcessed(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const values = await this.redis.mget(eventIds.map(cacheKey));
      return new Set(eventIds.filter((_, i) => values[i] !== null));
    } catch (err) {
      throw new TransientError('redis', `idempotency lookup failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Remembers events after their transaction committed, each with its entity's TTL. */
  async markProcessed(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const entry of entries) {
      pipeline.set(
        cacheKey(entry.eventId),
        entry.outcome,
        'EX',
        this.config.redis.ttlSeconds[entry.kind],
      );
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      throw new TransientError('redis', `idempotency write failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (failed)
      throw new TransientError('redis', `idempotency write failed: ${failed.message}`, {
        cause: failed,
      });
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.redis.quit();
    } catch (err) {
      this.logger.warn(`Redis did not close cleanly: ${(err as Error).message}`);
      this.redis.disconnect();
    }
  }
}
