import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { parseConfig } from '../src/config/app-config';
import {
  cacheKey,
  ProcessedEventCacheRepository,
} from '../src/idempotency/processed-event-cache.repository';
import { MetricsService } from '../src/metrics/metrics.service';

/** The Redis half of the idempotency check against the real Redis, one key prefix per test run. */
describe('ProcessedEventCacheRepository on a real Redis', () => {
  const run = randomBytes(4).toString('hex');
  const config = parseConfig({
    REDIS_TTL: '300',
    REDIS_TTL_PRODUCT: '111',
    REDIS_TTL_CUSTOMER: '222',
    REDIS_TTL_ORDER: '333',
  });
  let redis: Redis;
  let cache: ProcessedEventCacheRepository;

  beforeAll(() => {
    redis = new Redis({ host: config.redis.host, port: config.redis.port });
    cache = new ProcessedEventCacheRepository(redis, config, new MetricsService());
  });

  afterAll(async () => {
    const keys = await redis.keys(cacheKey(`${run}-*`));
    if (keys.length > 0) await redis.unlink(...keys);
    await cache.onApplicationShutdown();
  });

  it.each([1, 3, 500])(
    'writes %i events with their outcome and their entity kind TTL, and finds exactly those',
    async (count) => {
      // `count` events of rotating kinds and outcomes, then a lookup of them plus one never written.
      const kinds = ['product', 'customer', 'order'] as const;
      const outcomes = ['applied', 'stale'] as const;
      const entries = Array.from({ length: count }, (_, i) => ({
        eventId: `${run}-${count}-${i}`,
        kind: kinds[i % 3] ?? 'product',
        outcome: outcomes[i % 2] ?? 'applied',
      }));
      await cache.markProcessed(entries);

      const values = await redis.mget(entries.map((entry) => cacheKey(entry.eventId)));
      expect(values).toEqual(entries.map((entry) => entry.outcome));
      const ttls = await Promise.all(entries.map((entry) => redis.ttl(cacheKey(entry.eventId))));
      entries.forEach((entry, i) => {
        const want = config.redis.ttlSeconds[entry.kind];
        expect(ttls[i]).toBeLessThanOrEqual(want);
        expect(ttls[i]).toBeGreaterThan(want - 5);
      });
      const never = `${run}-${count}-never`;
      const found = await cache.findProcessed([...entries.map((e) => e.eventId), never]);
      expect(found).toEqual(new Set(entries.map((entry) => entry.eventId)));
    },
  );
});
