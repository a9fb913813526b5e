import { productEvent } from './support/events';
import { TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/**
 * SYNC_MODE=batch whatever mode the rest of the suite runs in: a backlog is applied a partition
 * batch at a time, in transactions of at most SYNC_BATCH_MAX_EVENTS events.
 */
describe('batch mode', () => {
  const ctx = new TestContext();
  const EVENTS = 300;
  const MAX_PER_TRANSACTION = 50;

  beforeAll(async () => {
    await ctx.setUp(1);
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  it('applies a backlog in transactions of at most SYNC_BATCH_MAX_EVENTS events', async () => {
    const events = Array.from({ length: EVENTS }, (_, i) => productEvent(i + 1, 1));
    // The backlog is in the topic before the service starts, so fetches return full batches.
    await ctx.publish('product', events);
    await ctx.startService({
      SYNC_MODE: 'batch',
      SYNC_BATCH_MAX_EVENTS: String(MAX_PER_TRANSACTION),
    });
    await waitFor(
      'the backlog applied',
      async () =>
        (await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM processed_events'))[0]?.n ===
        EVENTS,
    );
    // Every event of one transaction carries that transaction's processed_at.
    const transactions = await ctx.rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM processed_events GROUP BY processed_at',
    );
    expect(Math.max(...transactions.map((t) => t.n))).toBeLessThanOrEqual(MAX_PER_TRANSACTION);
    expect(transactions.length).toBeLessThan(EVENTS / 5);
    expect((await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM cms_products'))[0]?.n).toBe(
      EVENTS,
    );
  });
});
