import { randomUUID } from 'node:crypto';
import { productEvent, type TestEvent } from './support/events';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';
import { seededRandom } from './support/seeded-random';

const ENTITIES = 100;
const VERSIONS = 14;
const TOTAL = 2000;
const PARTITIONS = 6;

describe('two instances in one group on a 6-partition topic', () => {
  const ctx = new TestContext();
  const seed = Number(process.env.TEST_SEED ?? Date.now() % 100000);
  const random = seededRandom(seed);
  const services: RunningService[] = [];

  beforeAll(async () => {
    await ctx.setUp(PARTITIONS);
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  it(`ends in the exact expected state with 30% duplicates and shuffled versions (seed ${seed})`, async () => {
    const distinct: TestEvent[] = [];
    for (let id = 1; id <= ENTITIES; id++) {
      for (let version = 1; version <= VERSIONS; version++) {
        distinct.push(
          productEvent(id, version, { name: `p${id} v${version} ${randomUUID().slice(0, 8)}` }),
        );
      }
    }
    const stream = [...distinct];
    while (stream.length < TOTAL) stream.push(distinct[Math.floor(random() * distinct.length)]!);
    for (let i = stream.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [stream[i], stream[j]] = [stream[j]!, stream[i]!];
    }

    // Half the messages go to a random partition, so one entity's events cross partitions.
    const send = async (events: TestEvent[]) => {
      for (const event of events) {
        const partition = random() < 0.5 ? Math.floor(random() * PARTITIONS) : undefined;
        await ctx.publish('product', [event], { partition });
      }
    };
    services.push(await ctx.startService({ KAFKA_PARTITIONS_CONCURRENCY: '3' }));
    await send(stream.slice(0, TOTAL / 2));
    // The second instance joins mid-stream: a rebalance while events are in flight.
    services.push(await ctx.startService({ KAFKA_PARTITIONS_CONCURRENCY: '3' }));
    await send(stream.slice(TOTAL / 2));

    const recordedCount = async () => {
      let sum = 0;
      for (const service of services) {
        for (const outcome of ['applied', 'stale'] as const)
          sum += await service.count('product', outcome);
      }
      return sum;
    };
    await waitFor(
      'every distinct event recorded',
      async () =>
        (await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM processed_events'))[0]?.n ===
        distinct.length,
      { timeoutMs: 120_000, intervalMs: 250 },
    );

    const expected = new Map<number, TestEvent>();
    for (const event of distinct) {
      const id = event.data.id as number;
      if ((expected.get(id)?.version ?? 0) < event.version) expected.set(id, event);
    }
    const rows = await ctx.rows<{
      id: number;
      name: string;
      price: string;
      stock: number;
      source_version: number;
    }>('SELECT id, name, price, stock, source_version FROM cms_products ORDER BY id');
    expect(rows).toEqual(
      [...expected.values()]
        .sort((a, b) => (a.data.id as number) - (b.data.id as number))
        .map((e) => ({
          id: e.data.id,
          name: e.data.name,
          price: e.data.price,
          stock: e.data.stock,
          source_version: e.version,
        })),
    );
    // Every distinct event was recorded exactly once across both instances: none applied twice.
    expect(await recordedCount()).toBe(distinct.length);
    const errors = await ctx.rows<{ n: number }>('SELECT COUNT(*) AS n FROM sync_errors');
    expect(errors[0]?.n).toBe(0);
  });
});
