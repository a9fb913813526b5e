import { parseConfig } from '../src/config/app-config';
import { ProcessedEventsPrunerService } from '../src/housekeeping/processed-events-pruner.service';
import { MetricsService } from '../src/metrics/metrics.service';
import { productEvent } from './support/events';
import { handledCount, type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const HOUR_MS = 3_600_000;
/** A DATETIME(3) literal in UTC, like the columns hold. */
const utc = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

/** Pruning of processed_events against the real service and database. */
describe('processed_events pruning (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;
  let metrics: MetricsService;

  beforeAll(async () => {
    await ctx.setUp(1);
    service = await ctx.startService({
      PRUNE_INTERVAL_MS: '200',
      PROCESSED_EVENTS_RETENTION_HOURS: '1',
      // Short, so that a replayed old event reaches the database instead of the Redis cache.
      REDIS_TTL: '1',
    });
    metrics = service.app.get(MetricsService);
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  async function insertProcessed(prefix: string, count: number, processedAt: Date) {
    const rows = Array.from({ length: count }, (_, i) => [
      `${prefix}-${i}`,
      'product.updated',
      i + 1,
      1,
      'applied',
      ctx.topics.product,
      0,
      i,
      utc(processedAt),
    ]);
    await ctx.rows(
      `INSERT INTO processed_events (event_id, event_type, entity_id, version, outcome, topic,
         kafka_partition, kafka_offset, processed_at) VALUES ?`,
      [rows],
    );
  }

  const countLike = async (prefix: string) =>
    (
      await ctx.rows<{ n: number }>(
        'SELECT COUNT(*) AS n FROM processed_events WHERE event_id LIKE ?',
        [`${prefix}-%`],
      )
    )[0]?.n;

  it('names a bad retention or interval in the configuration error', () => {
    expect(() => parseConfig({ PROCESSED_EVENTS_RETENTION_HOURS: 'a week' })).toThrow(
      /PROCESSED_EVENTS_RETENTION_HOURS: must be a whole number, got "a week"/,
    );
    expect(() => parseConfig({ PRUNE_INTERVAL_MS: '0' })).toThrow(
      /PRUNE_INTERVAL_MS: must be between 100 and 86400000, got 0/,
    );
    const defaults = parseConfig({}).housekeeping;
    expect(defaults).toEqual({ processedEventsRetentionHours: 168, pruneIntervalMs: 3_600_000 });
  });

  it('deletes rows older than the retention in batches and keeps the recent ones', async () => {
    const before = await metrics.prunedCount();
    // More than two batches of 1000, so the loop has to go round.
    await insertProcessed('old', 2500, new Date(Date.now() - 2 * HOUR_MS));
    await insertProcessed('recent', 5, new Date(Date.now() - 30 * 60_000));

    await waitFor('the old rows pruned', async () => (await countLike('old')) === 0, {
      timeoutMs: 30_000,
    });
    expect(await countLike('recent')).toBe(5);
    await waitFor('the counter', async () => (await metrics.prunedCount()) - before === 2500, {
      timeoutMs: 10_000,
    });
    expect(await metrics.prunedCount()).toBe(before + 2500);

    // Runs never overlap: a call while one is in flight joins it.
    const pruner = service.app.get(ProcessedEventsPrunerService);
    const [a, b] = [pruner.pruneOnce(), pruner.pruneOnce()];
    expect(a).toBe(b);
    await a;
  });

  it('still records a replayed event whose processed_events row was pruned as stale', async () => {
    const v1 = productEvent(1001, 1);
    const v2 = productEvent(1001, 2);
    const before = await handledCount(service, 'product');
    await ctx.publish('product', [v1, v2]);
    await ctx.waitForHandled(service, 'product', before + 2);

    // Age the first event's row past the retention; the pruner removes it.
    await ctx.rows('UPDATE processed_events SET processed_at = ? WHERE event_id = ?', [
      utc(new Date(Date.now() - 2 * HOUR_MS)),
      v1.eventId,
    ]);
    const processed = (eventId: string) =>
      ctx.rows<{ outcome: string }>('SELECT outcome FROM processed_events WHERE event_id = ?', [
        eventId,
      ]);
    await waitFor('the aged row pruned', async () => (await processed(v1.eventId)).length === 0, {
      timeoutMs: 30_000,
    });
    await waitFor('the Redis key expired', async () => !(await ctx.redisHas(v1.eventId)), {
      timeoutMs: 10_000,
    });

    const stale = await service.count('product', 'stale');
    await ctx.publish('product', [v1]);
    await ctx.waitForHandled(service, 'product', before + 3);
    expect(await service.count('product', 'stale')).toBe(stale + 1);
    expect(await processed(v1.eventId)).toEqual([{ outcome: 'stale' }]);
    expect((await ctx.rows('SELECT source_version FROM cms_products WHERE id = 1001'))[0]).toEqual({
      source_version: 2,
    });
  });
});
