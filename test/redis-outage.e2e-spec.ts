import Redis from 'ioredis';
import { ProcessedEventCacheRepository } from '../src/idempotency/processed-event-cache.repository';
import { MetricsService } from '../src/metrics/metrics.service';
import { productEvent } from './support/events';
import { PrivateRedis } from './support/private-redis';
import { handledCount, type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/** Redis is a cache, never the source of truth: with it down the database check carries on alone. */
describe('Redis outage (a private redis-server the test kills)', () => {
  const ctx = new TestContext();
  const redis = new PrivateRedis(20000 + Math.floor(Math.random() * 10000));
  let service: RunningService;
  let metrics: MetricsService;
  const client = () =>
    new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 0 });

  beforeAll(async () => {
    await redis.start();
    await ctx.setUp(2);
    // A small breaker: two failures in a row open the circuit, half a second until a trial.
    service = await ctx.startService({
      REDIS_PORT: String(redis.port),
      REDIS_BREAKER_FAILURES: '2',
      REDIS_BREAKER_COOLDOWN_MS: '500',
    });
    metrics = service.app.get(MetricsService);
  });

  afterAll(async () => {
    await ctx.tearDown();
    await redis.kill();
  });

  async function deliver(events: ReturnType<typeof productEvent>[]) {
    const before = await handledCount(service, 'product');
    await ctx.publish('product', events);
    await ctx.waitForHandled(service, 'product', before + events.length);
  }

  async function cached(eventId: string): Promise<boolean> {
    const c = client();
    try {
      await c.connect();
      return (await c.exists(`processed:event:${eventId}`)) === 1;
    } finally {
      c.disconnect();
    }
  }

  it('stays correct while Redis is down and refills the cache when it is back', async () => {
    const first = productEvent(1, 1);
    await deliver([first]);
    expect(await cached(first.eventId)).toBe(true);
    expect(await metrics.redisCircuitOpen()).toBe(0);

    await redis.kill();
    const errorsBefore = await metrics.cacheCount('error');
    const duplicatesBefore = await service.count('product', 'duplicate');
    const second = productEvent(1, 2, { name: 'written while Redis was down' });
    // A replay of `first` must be caught by the database check alone.
    await deliver([first, second, productEvent(1, 1)]);
    expect(await service.count('product', 'duplicate')).toBe(duplicatesBefore + 1);
    expect(await metrics.cacheCount('error')).toBeGreaterThanOrEqual(errorsBefore + 3);
    expect(
      (await ctx.rows('SELECT name, source_version FROM cms_products WHERE id = 1'))[0],
    ).toEqual({
      name: 'written while Redis was down',
      source_version: 2,
    });

    // Enough failures in a row opened the circuit: Redis is skipped, calls fail at once.
    await waitFor(
      'the Redis circuit to open',
      async () => (await metrics.redisCircuitOpen()) === 1,
      { timeoutMs: 10_000 },
    );
    const repository = service.app.get(ProcessedEventCacheRepository);
    await waitFor(
      'a lookup refused by the open circuit',
      async () => {
        const error = await repository.findProcessed(['probe']).then(
          () => undefined,
          (err: unknown) => err,
        );
        return error instanceof Error && /circuit open/.test(error.message);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    // Still open while Redis stays down: each trial after the cool-down fails and re-opens it.
    await deliver([productEvent(3, 1)]);
    expect(await metrics.redisCircuitOpen()).toBe(1);

    await redis.start();
    // The client reconnects by itself; the first event after that is cached again.
    const third = productEvent(1, 3);
    let probeVersion = 0;
    await waitFor(
      'the cache to refill',
      async () => {
        const probe = productEvent(2, ++probeVersion);
        await deliver([probe]);
        return cached(probe.eventId);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // A trial call succeeded, so the circuit is closed again.
    expect(await metrics.redisCircuitOpen()).toBe(0);
    await deliver([third]);
    expect(await cached(third.eventId)).toBe(true);
    const hits = await metrics.cacheCount('hit');
    await deliver([third]);
    expect(await metrics.cacheCount('hit')).toBe(hits + 1);
    expect((await ctx.rows('SELECT source_version FROM cms_products WHERE id = 1'))[0]).toEqual({
      source_version: 3,
    });
  });
});
