import { productEvent, type TestEvent } from './support/events';
import { request } from './support/service-http';
import { TestContext, handledCount } from './support/test-context';
import { waitFor } from './support/wait-for';

const PARTITIONS = 3;
/** Far longer than any test here waits: a commit seen within a test came from another path. */
const LONG_INTERVAL_MS = '60000';

/**
 * Offsets are committed in the background, at most once per KAFKA_COMMIT_INTERVAL_MS, not after
 * every partition batch; what is resolved is committed before a rebalance and at shutdown.
 * Each test sends products one message at a time over three partitions, so that the service
 * handles them in several batches.
 */
describe('offset commits', () => {
  let ctx: TestContext;
  let nextId = 1;

  beforeEach(async () => {
    ctx = new TestContext();
    await ctx.setUp(PARTITIONS);
  });

  afterEach(async () => {
    await ctx.tearDown();
  });

  const sendProducts = async (count: number): Promise<TestEvent[]> => {
    const events: TestEvent[] = [];
    for (let i = 0; i < count; i++) {
      const event = productEvent(nextId++, 1);
      events.push(event);
      await ctx.publish('product', [event], { partition: i % PARTITIONS });
    }
    return events;
  };

  it('commits the offsets of many batches together once the interval has passed', async () => {
    const service = await ctx.startService({ KAFKA_COMMIT_INTERVAL_MS: '5000' });
    await sendProducts(30);
    await ctx.waitForHandled(service, 'product', 30);
    // kafkajs' autoCommit would have committed after each of those batches.
    expect(await ctx.lag(['product'])).toBeGreaterThan(0);

    await waitFor(
      'lag 0 on every product partition',
      async () => (await ctx.lag(['product'])) === 0,
      {
        timeoutMs: 20_000,
      },
    );
    expect(await service.count('product', 'applied')).toBe(30);
  });

  it('leaves the commits to kafkajs, after every batch, at KAFKA_COMMIT_INTERVAL_MS=0', async () => {
    const service = await ctx.startService({ KAFKA_COMMIT_INTERVAL_MS: '0' });
    await sendProducts(30);
    await ctx.waitForHandled(service, 'product', 30);
    await waitFor(
      'lag 0 on every product partition',
      async () => (await ctx.lag(['product'])) === 0,
      { timeoutMs: 10_000 },
    );
    expect(await service.count('product', 'applied')).toBe(30);
  });

  it('commits everything it handled when it stops, however long the interval', async () => {
    const service = await ctx.startService({ KAFKA_COMMIT_INTERVAL_MS: LONG_INTERVAL_MS });
    await sendProducts(20);
    await ctx.waitForHandled(service, 'product', 20);
    expect(await ctx.lag(['product'])).toBe(20);

    await service.stop();
    expect(await ctx.lag(['product'])).toBe(0);
  });

  it('commits what it handled before a second instance takes some of its partitions', async () => {
    const first = await ctx.startService({ KAFKA_COMMIT_INTERVAL_MS: LONG_INTERVAL_MS });
    await sendProducts(30);
    await ctx.waitForHandled(first, 'product', 30);
    expect(await ctx.lag(['product'])).toBe(30);

    const second = await ctx.startService({
      KAFKA_COMMIT_INTERVAL_MS: LONG_INTERVAL_MS,
    });
    await waitFor('the second instance in the group', async () =>
      (await request(second, '/ready')).status === 200 ? true : undefined,
    );
    await waitFor('lag 0 after the rebalance', async () => (await ctx.lag(['product'])) === 0, {
      timeoutMs: 10_000,
    });
    // Its partitions start at the committed offsets: nothing handled twice.
    expect(await handledCount(second, 'product')).toBe(0);
    expect(await first.count('product', 'applied')).toBe(30);
  });
});
