import { MetricsService } from '../src/metrics/metrics.service';
import { productEvent } from './support/events';
import { request } from './support/service-http';
import { readDeadLetters } from './support/dead-letter-reader';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

interface HealthBody {
  status: 'ok' | 'error';
  error?: Record<string, { status: string; message?: string; entities?: Record<string, string> }>;
}

/**
 * What the database refuses, in the test's own database: a column narrower than the contract
 * (data errors: the events at fault are dead-lettered, the rest of the batch applied) and a
 * column dropped (a schema error: retried, /ready fails with the reason, then recovers).
 * Run in both sync modes (TEST_SYNC_MODE=batch and =event).
 */
describe('database rejections (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;

  beforeAll(async () => {
    await ctx.setUp(1);
    service = await ctx.startService({ RETRY_MAX_DELAY_MS: '1000' });
    await ctx.rows('ALTER TABLE cms_products MODIFY sku VARCHAR(4) NOT NULL');
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  const processed = async (ids: readonly string[]) =>
    (await ctx.rows('SELECT event_id FROM processed_events WHERE event_id IN (?)', [ids])).length;

  it('sends 20 products in one batch, 3 with a sku longer than the narrowed VARCHAR(4): those 3 are dead-lettered rejected_by_database with the MySQL message, the other 17 applied', async () => {
    const badIds = new Set([4, 11, 17]);
    const events = Array.from({ length: 20 }, (_, i) =>
      productEvent(i + 1, 1, { sku: badIds.has(i + 1) ? `LONG-${i + 1}` : `S${i + 1}` }),
    );
    await ctx.publish('product', events, { key: 'rejection' });
    const good = events.filter((event) => !badIds.has(event.data.id as number));
    const bad = events.filter((event) => badIds.has(event.data.id as number));
    await waitFor(
      '17 applied and 3 dead-lettered',
      async () => {
        const [errors] = await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM sync_errors');
        return (await processed(good.map((e) => e.eventId))) === 17 && Number(errors?.n) === 3;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    const rows = await ctx.rows<{ id: number; sku: string }>(
      'SELECT id, sku FROM cms_products ORDER BY id',
    );
    expect(rows.map((row) => row.id)).toEqual(good.map((event) => event.data.id));
    const errors = await ctx.rows<{
      event_id: string;
      error_type: string;
      error_message: string;
      kafka_offset: number;
    }>('SELECT * FROM sync_errors ORDER BY kafka_offset');
    expect(errors.map((e) => [e.event_id, e.error_type, Number(e.kafka_offset)])).toEqual(
      bad.map((event) => [event.eventId, 'rejected_by_database', events.indexOf(event)]),
    );
    for (const error of errors) {
      expect(error.error_message).toBe(
        "rejected by the database: ER_DATA_TOO_LONG: Data too long for column 'sku' at row 1",
      );
    }
    expect(await processed(bad.map((e) => e.eventId))).toBe(0);
    const metrics = service.app.get(MetricsService);
    expect(await metrics.eventCount('product', 'invalid')).toBe(3);
    expect(await metrics.eventCount('product', 'applied')).toBe(17);
    // A data error is not waited out: no attempt failed and was retried.
    expect(await metrics.eventCount('product', 'failed')).toBe(0);

    const letters = await readDeadLetters(
      `${ctx.groupId}-dlq-reader`,
      [`${ctx.topics.product}.dlq`],
      3,
    );
    const seen = letters.map((letter) => ({
      offset: letter.headers['x-source-offset'],
      type: letter.headers['x-error-type'],
      value: letter.value?.toString() ?? '',
    }));
    expect(seen).toEqual(
      bad.map((event) => ({
        offset: String(events.indexOf(event)),
        type: 'rejected_by_database',
        value: JSON.stringify(event),
      })),
    );
  });

  it('drops a column the service writes: /ready fails naming the schema error while it lasts, nothing is lost, and it recovers once the column is back', async () => {
    await ctx.rows('ALTER TABLE cms_products DROP COLUMN description');
    const events = Array.from({ length: 5 }, (_, i) => productEvent(100 + i, 1, { sku: `T${i}` }));
    await ctx.publish('product', events, { key: 'schema' });

    const down = await waitFor(
      '/ready to answer 503 for the schema',
      async () => {
        const answer = await request(service, '/ready');
        const body = JSON.parse(answer.text) as HealthBody;
        return answer.status === 503 && body.error?.schema ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(down.error?.schema).toEqual({
      status: 'down',
      message: 'the database schema refuses product events; they are retried until it is fixed',
      entities: {
        product: expect.stringContaining("ER_BAD_FIELD_ERROR: Unknown column 'description'"),
      },
    });
    const metricsText = (await request(service, '/metrics')).text;
    expect(metricsText).toMatch(/sync_schema_errors_total\{entity="product"\} [1-9]/);
    expect(metricsText).toContain('sync_schema_error_active{entity="product"} 1');
    expect(await processed(events.map((e) => e.eventId))).toBe(0);

    await ctx.rows('ALTER TABLE cms_products ADD COLUMN description MEDIUMTEXT NULL AFTER name');
    await waitFor(
      'the five events applied',
      async () => (await processed(events.map((e) => e.eventId))) === 5,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await waitFor(
      '/ready to answer 200 again',
      async () => (await request(service, '/ready')).status === 200,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect((await request(service, '/metrics')).text).toContain(
      'sync_schema_error_active{entity="product"} 0',
    );
    const rows = await ctx.rows<{ id: number; description: string }>(
      'SELECT id, description FROM cms_products WHERE id >= 100 ORDER BY id',
    );
    expect(rows).toEqual(
      events.map((event) => ({ id: event.data.id, description: event.data.description })),
    );
    // The schema error was no invalid input: nothing of it was dead-lettered.
    const [errors] = await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM sync_errors');
    expect(Number(errors?.n)).toBe(3);
  });

  it('sends a new product and then an update of an existing one with a sku too long, in one batch: the first is counted applied once, the second dead-lettered', async () => {
    // In event mode the update's first round trip also carries the new product's COMMIT, which
    // goes through before the update fails: the event whose COMMIT it was is applied, not found
    // again and counted a duplicate.
    const existing = productEvent(200, 1, { sku: 'S200' });
    await ctx.publish('product', [existing], { key: 'carried' });
    await waitFor('product 200 applied', async () => (await processed([existing.eventId])) === 1, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const metrics = service.app.get(MetricsService);
    const count = async () =>
      Promise.all(
        (['applied', 'duplicate', 'stale', 'invalid', 'failed'] as const).map((outcome) =>
          metrics.eventCount('product', outcome),
        ),
      );
    const before = await count();
    const created = productEvent(201, 1, { sku: 'S201' });
    const refused = productEvent(200, 2, { sku: 'LONG-200' });
    await ctx.publish('product', [created, refused], { key: 'carried' });
    const counted = await waitFor(
      'the update counted invalid',
      async () => {
        const now = await count();
        return now[3] === (before[3] as number) + 1 ? now : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // applied, duplicate, stale, invalid, failed
    expect(counted.map((n, i) => n - (before[i] as number))).toEqual([1, 0, 0, 1, 0]);
    expect(
      await ctx.rows('SELECT event_id, error_type FROM sync_errors WHERE event_id = ?', [
        refused.eventId,
      ]),
    ).toEqual([{ event_id: refused.eventId, error_type: 'rejected_by_database' }]);
    expect(await processed([created.eventId, refused.eventId])).toBe(1);
    expect(
      await ctx.rows('SELECT id, sku, source_version FROM cms_products WHERE id IN (200, 201)'),
    ).toEqual([
      { id: 200, sku: 'S200', source_version: 1 },
      { id: 201, sku: 'S201', source_version: 1 },
    ]);
  });
});
