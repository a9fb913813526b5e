import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { EntityKind } from '../src/domain/entity-kind';
import {
  customerEvent,
  deletedEvent,
  orderEvent,
  productEvent,
  type TestEvent,
} from './support/events';
import { PrivateRedis } from './support/private-redis';
import { BROKERS, handledCount, type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const run = promisify(execFile);

const CMS_TABLES = ['cms_products', 'cms_customers', 'cms_orders', 'cms_order_items'] as const;
const SYNC_TABLES = ['processed_events', 'sync_errors', 'sync_entity_versions'] as const;
const ALL_TABLES = [...CMS_TABLES, ...SYNC_TABLES];
type Table = (typeof ALL_TABLES)[number];
type Snapshot = Record<Table, RowDataPacket[]>;

/**
 * What each table must hold after the replay, column by column: everything but the times the
 * service stamps when it writes (synced_at, processed_at, created_at, updated_at), the
 * auto-increment id, and what depends on how events fell into chunks: a processed_events row's
 * outcome, and its offset when one event was delivered twice (the chunk records either copy).
 */
const COMPARED: Record<Table, string> = {
  cms_products:
    'SELECT id, sku, name, description, price, currency, stock, active, source_version, source_occurred_at FROM cms_products ORDER BY id',
  cms_customers:
    'SELECT id, email, first_name, last_name, phone, status, source_version, source_occurred_at FROM cms_customers ORDER BY id',
  cms_orders:
    'SELECT id, customer_id, status, currency, total_amount, placed_at, source_version, source_occurred_at FROM cms_orders ORDER BY id',
  cms_order_items:
    'SELECT order_id, line_no, product_id, quantity, unit_price FROM cms_order_items ORDER BY order_id, line_no',
  processed_events:
    'SELECT event_id, event_type, entity_id, version, topic FROM processed_events ORDER BY event_id',
  sync_errors:
    'SELECT event_id, topic, kafka_partition, kafka_offset, error_type, error_message FROM sync_errors ORDER BY topic, kafka_partition, kafka_offset',
  sync_entity_versions:
    'SELECT entity, entity_id, version, deleted FROM sync_entity_versions ORDER BY entity, entity_id',
};

type Published = { kind: EntityKind; events: (TestEvent | { raw: string; key: string })[] };

/**
 * Before the cutoff: products 1-24 created, updated and sent a stale version (v1, v3, then v2),
 * products 1-4 deleted, orders 1-6 in two versions, one invalid product message, and no
 * customer at all (so the customer partitions have no record and take the broker's time).
 */
function streamBeforeCutoff(): Published[] {
  const products: TestEvent[] = [];
  for (let id = 1; id <= 24; id++) {
    products.push(
      productEvent(id, 1, {}, 'created'),
      productEvent(id, 3),
      productEvent(id, 2, { name: 'stale' }),
    );
  }
  for (let id = 1; id <= 4; id++) products.push(deletedEvent('product', id, 4));
  const orders: TestEvent[] = [];
  for (let id = 1; id <= 6; id++) {
    orders.push(orderEvent(id, 1, {}, 'created'), orderEvent(id, 2, { status: 'shipped' }));
  }
  return [
    { kind: 'product', events: [...products, { raw: '{"eventId": "cut', key: '99' }] },
    { kind: 'order', events: orders },
  ];
}

/**
 * After the cutoff (half of it before the backup, half after): updates of products 5-16 and
 * deletes of 17-20 (all in the backup), stale v2 of 21-24, new products 25-30, product 1 back
 * after its delete, customers 1-10 with a delete of 3, orders 1-3 changed (one item less) and
 * order 4 deleted, events of both streams delivered again, and a second invalid message.
 */
function streamAfterCutoff(before: Published[]): Published[] {
  const products: (TestEvent | { raw: string; key: string })[] = [];
  for (let id = 5; id <= 16; id++) products.push(productEvent(id, 4, { stock: 40 + id }));
  for (let id = 17; id <= 20; id++) products.push(deletedEvent('product', id, 4));
  for (let id = 21; id <= 24; id++) products.push(productEvent(id, 2, { name: 'late and stale' }));
  for (let id = 25; id <= 30; id++) products.push(productEvent(id, 1, {}, 'created'));
  products.push(productEvent(1, 5, { name: 'back again' }, 'created'));
  products.push(...(before[0]?.events.slice(0, 5) ?? []), ...products.slice(0, 3));
  products.push({ raw: 'not json at all', key: '98' });
  const customers: TestEvent[] = [];
  for (let id = 1; id <= 10; id++) {
    customers.push(customerEvent(id, 1, {}, 'created'), customerEvent(id, 2));
  }
  customers.push(deletedEvent('customer', 3, 3));
  const orders: TestEvent[] = [];
  for (let id = 1; id <= 3; id++) {
    orders.push(
      orderEvent(id, 3, {
        totalAmount: '10.00',
        items: [{ productId: id, quantity: 1, unitPrice: '10.00' }],
      }),
    );
  }
  orders.push(deletedEvent('order', 4, 3));
  return [
    { kind: 'product', events: products },
    { kind: 'customer', events: customers },
    { kind: 'order', events: orders },
  ];
}

/** Each entity's events split in two, in order. */
function halves(stream: Published[]): [Published[], Published[]] {
  const cut = (events: Published['events']) => Math.ceil(events.length / 2);
  return [
    stream.map(({ kind, events }) => ({ kind, events: events.slice(0, cut(events)) })),
    stream.map(({ kind, events }) => ({ kind, events: events.slice(cut(events)) })),
  ];
}

const messageCount = (stream: Published[]) => stream.reduce((n, s) => n + s.events.length, 0);

/** The end state the contract gives for all events: per entity the highest version, unless a delete. */
function expectedVersions(streams: Published[]): Record<EntityKind, Map<number, number>> {
  const latest: Record<EntityKind, Map<number, { version: number; deleted: boolean }>> = {
    product: new Map(),
    customer: new Map(),
    order: new Map(),
  };
  for (const { kind, events } of streams) {
    for (const event of events) {
      if ('raw' in event) continue;
      const id = Number(event.data.id);
      const current = latest[kind].get(id);
      if (current === undefined || event.version > current.version) {
        latest[kind].set(id, { version: event.version, deleted: event.type.endsWith('.deleted') });
      }
    }
  }
  const live = (kind: EntityKind) =>
    new Map(
      [...latest[kind]]
        .filter(([, state]) => !state.deleted)
        .map(([id, state]) => [id, state.version]),
    );
  return { product: live('product'), customer: live('customer'), order: live('order') };
}

/** `npm run rewind` as an operator runs it: the real script as a child process. */
describe('npm run rewind (real Kafka, MariaDB, Redis)', () => {
  const redis = new PrivateRedis(20000 + Math.floor(Math.random() * 10000));
  const kafka = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING });
  let admin: Admin;
  let redisClient: Redis;
  const redisEnv = { REDIS_PORT: String(redis.port) };

  beforeAll(async () => {
    await redis.start();
    redisClient = new Redis({ host: '127.0.0.1', port: redis.port });
  });

  afterAll(async () => {
    redisClient?.disconnect();
    await redis.kill();
  });

  /** Each scenario's own topics and its own admin client: one created before them has stale metadata. */
  function scenario(): TestContext {
    const ctx = new TestContext();
    beforeAll(async () => {
      await ctx.setUp(3);
      admin = kafka.admin();
      await admin.connect();
    });
    afterAll(async () => {
      await admin.disconnect();
      await ctx.tearDown();
    });
    return ctx;
  }

  async function rewind(
    ctx: TestContext,
    ...args: string[]
  ): Promise<{ code: number; out: string }> {
    try {
      const { stdout, stderr } = await run('npx', ['tsx', 'scripts/rewind.ts', ...args], {
        env: { ...process.env, ...ctx.env(redisEnv) },
        timeout: 90_000,
      });
      return { code: 0, out: `${stdout}${stderr}` };
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  }

  async function publishAll(ctx: TestContext, stream: Published[]): Promise<void> {
    for (const { kind, events } of stream) await ctx.publish(kind, events);
  }

  async function handledTotal(service: RunningService): Promise<number> {
    let sum = 0;
    for (const kind of ['product', 'customer', 'order'] as const) {
      sum += await handledCount(service, kind);
    }
    return sum;
  }

  async function waitHandled(service: RunningService, total: number): Promise<void> {
    await waitFor(`${total} messages handled`, async () => (await handledTotal(service)) >= total, {
      timeoutMs: 90_000,
    });
  }

  async function connect(ctx: TestContext): Promise<Connection> {
    return createConnection({
      host: '127.0.0.1',
      user: 'root',
      password: '',
      database: ctx.database,
      dateStrings: true,
      supportBigNumbers: true,
    });
  }

  /**
   * A backup as a consistent snapshot of every table, taken while the service writes: one
   * REPEATABLE READ snapshot read into memory (CREATE TABLE ... SELECT would commit between
   * tables, and INSERT ... SELECT reads the latest rows, not the snapshot).
   */
  async function backup(ctx: TestContext): Promise<Snapshot> {
    const db = await connect(ctx);
    try {
      await db.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await db.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const snapshot = {} as Snapshot;
      for (const table of ALL_TABLES) {
        const [rows] = await db.query<RowDataPacket[]>(`SELECT * FROM ${table}`);
        snapshot[table] = rows;
      }
      await db.query('COMMIT');
      return snapshot;
    } finally {
      await db.end();
    }
  }

  async function restore(ctx: TestContext, snapshot: Snapshot, tables: readonly Table[]) {
    const db = await connect(ctx);
    try {
      for (const table of tables) {
        await db.query(`DELETE FROM ${table}`);
        const rows = snapshot[table];
        const columns = Object.keys(rows[0] ?? {});
        if (rows.length === 0) continue;
        await db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ?`, [
          rows.map((row) => columns.map((column) => row[column] as unknown)),
        ]);
      }
    } finally {
      await db.end();
    }
  }

  async function compared(ctx: TestContext): Promise<Record<Table, RowDataPacket[]>> {
    const state = {} as Record<Table, RowDataPacket[]>;
    for (const table of ALL_TABLES) state[table] = await ctx.rows(COMPARED[table]);
    return state;
  }

  async function committedOffsets(ctx: TestContext): Promise<string[]> {
    const committed = await admin.fetchOffsets({
      groupId: ctx.groupId,
      topics: Object.values(ctx.topics),
    });
    return committed.flatMap(({ topic, partitions }) =>
      partitions.map((p) => `${topic}[${p.partition}]@${p.offset}`).sort(),
    );
  }

  async function waitCaughtUp(ctx: TestContext): Promise<void> {
    await waitFor(
      'the group caught up on every partition',
      async () => {
        for (const topic of Object.values(ctx.topics)) {
          const [high, committed] = await Promise.all([
            admin.fetchTopicOffsets(topic),
            admin.fetchOffsets({ groupId: ctx.groupId, topics: [topic] }),
          ]);
          const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]));
          // A partition that never had a message has no committed offset and nothing to catch up.
          const behind = high.filter(
            (h) => h.high !== '0' && byPartition.get(h.partition) !== h.high,
          );
          if (behind.length > 0) return false;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  }

  async function waitGroupEmpty(ctx: TestContext): Promise<void> {
    await waitFor('the group has no members', async () => {
      const { groups } = await admin.describeGroups([ctx.groupId]);
      return (groups[0]?.members.length ?? 0) === 0;
    });
  }

  /**
   * Streams, backs up mid-stream, streams more and takes the end state as the reference; then
   * stops the service and restores `tables` from the backup. Returns what the rewind needs.
   */
  async function streamBackupAndRestore(
    ctx: TestContext,
    tables: readonly Table[],
    beforeStop: (service: RunningService) => Promise<void> = () => Promise.resolve(),
  ) {
    let service = await ctx.startService(redisEnv);
    const before = streamBeforeCutoff();
    await publishAll(ctx, before);
    await waitHandled(service, messageCount(before));
    // Everything recorded up to here is in the backup; the cutoff (--to minus --margin) is here.
    const cutoff = Date.now();
    await waitFor('the clock past the cutoff', () => Date.now() > cutoff);
    const after = streamAfterCutoff(before);
    // Half of the second stream before the backup (the service may still be at it: lag at
    // backup time), half after it, so that the backup surely misses changes, deletes included.
    const [early, late] = halves(after);
    await publishAll(ctx, early);
    await waitHandled(service, messageCount(before) + Math.floor(messageCount(early) / 2));
    const backupAt = new Date();
    const snapshot = await backup(ctx);
    await publishAll(ctx, late);
    const total = messageCount(before) + messageCount(after);
    await waitHandled(service, total);
    await waitCaughtUp(ctx);
    const reference = await compared(ctx);
    await beforeStop(service);
    await service.stop();
    await waitGroupEmpty(ctx);
    await restore(ctx, snapshot, tables);
    const args = ['--to', backupAt.toISOString(), '--margin', `${backupAt.getTime() - cutoff}ms`];
    return {
      args,
      reference,
      expected: expectedVersions([...before, ...after]),
      restart: async () => {
        service = await ctx.startService(redisEnv);
        await waitCaughtUp(ctx);
        return service;
      },
    };
  }

  async function expectEndState(
    ctx: TestContext,
    reference: Record<Table, RowDataPacket[]>,
    expected: Record<EntityKind, Map<number, number>>,
  ): Promise<void> {
    const state = await compared(ctx);
    for (const table of ALL_TABLES) {
      expect({ table, rows: state[table] }).toEqual({ table, rows: reference[table] });
    }
    const versions = (rows: RowDataPacket[]) =>
      new Map(rows.map((row) => [Number(row.id), Number(row.source_version)]));
    expect(versions(state.cms_products)).toEqual(expected.product);
    expect(versions(state.cms_customers)).toEqual(expected.customer);
    expect(versions(state.cms_orders)).toEqual(expected.order);
  }

  it('refuses bad flags with exit code 2 and the usage', async () => {
    const ctx = new TestContext();
    const [noTo, badMargin, both] = await Promise.all([
      rewind(ctx, '--dry-run'),
      rewind(ctx, '--to', '2026-11-30T02:00:00Z', '--margin', 'ten'),
      rewind(ctx, '--to', '2026-11-30', '--topic', 'x', '--rebuild-state'),
    ]);
    expect(noTo.code).toBe(2);
    expect(noTo.out).toContain('--to is required');
    expect(noTo.out).toContain('usage: npm run rewind');
    expect(badMargin.code).toBe(2);
    expect(badMargin.out).toContain('--margin: "ten" is not a duration');
    expect(both.code).toBe(2);
    expect(both.out).toContain('leave out --topic');
  });

  describe('after a restore of the whole database', () => {
    const ctx = scenario();

    it('refuses while the service runs, plans on --dry-run, then the replay restores every table', async () => {
      const started = Date.now();
      let refusal = { code: 0, out: '' };
      let memberId = '';
      const { args, reference, expected, restart } = await streamBackupAndRestore(
        ctx,
        ALL_TABLES,
        async () => {
          const { groups } = await admin.describeGroups([ctx.groupId]);
          memberId = groups[0]?.members[0]?.memberId ?? '(none)';
          refusal = await rewind(ctx, '--to', new Date().toISOString(), '--dry-run');
        },
      );
      expect(refusal.code).toBe(1);
      expect(refusal.out).toContain(`consumer group ${ctx.groupId} has 1 active member(s)`);
      expect(refusal.out).toContain(memberId);
      expect(refusal.out).toContain('Stop the service or scale it to zero first');

      const offsetsBefore = await committedOffsets(ctx);
      const keysBefore = await redisClient.dbsize();
      expect(keysBefore).toBeGreaterThan(0);
      const restored = await compared(ctx);
      const dry = await rewind(ctx, ...args, '--dry-run');
      expect(dry.code).toBe(0);
      for (const topic of Object.values(ctx.topics)) {
        for (const partition of [0, 1, 2]) {
          expect(dry.out).toMatch(
            new RegExp(
              `${topic.replace(/\./g, '\\.')}\\[${partition}\\] committed (\\d+|none), target \\d+ .* replays \\d+ message`,
            ),
          );
        }
      }
      expect(dry.out).toContain(`remove ${keysBefore} Redis idempotency key(s)`);
      expect(await committedOffsets(ctx)).toEqual(offsetsBefore);
      expect(await redisClient.dbsize()).toBe(keysBefore);
      expect(await compared(ctx)).toEqual(restored);

      const real = await rewind(ctx, ...args);
      expect(real.code).toBe(0);
      expect(real.out).toContain(`removed ${keysBefore} Redis idempotency key(s)`);
      expect(await redisClient.dbsize()).toBe(0);
      expect(await committedOffsets(ctx)).not.toEqual(offsetsBefore);

      await restart();
      await expectEndState(ctx, reference, expected);
      console.log(`rewind after a whole restore: ${Date.now() - started} ms`);
    });
  });

  describe('after a restore of the CMS tables alone', () => {
    const ctx = scenario();

    it('refuses without --rebuild-state, and with it rebuilds the sync state and restores every table', async () => {
      const started = Date.now();
      const { args, reference, expected, restart } = await streamBackupAndRestore(ctx, CMS_TABLES);

      const refused = await rewind(ctx, ...args);
      expect(refused.code).toBe(1);
      expect(refused.out).toContain('the sync state is newer than the restored tables');
      expect(refused.out).toContain('--rebuild-state');
      const offsetsBefore = await committedOffsets(ctx);

      const dry = await rewind(ctx, ...args, '--rebuild-state', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.out).toMatch(/--rebuild-state would drop \d+ sync_entity_versions row\(s\)/);
      expect(await committedOffsets(ctx)).toEqual(offsetsBefore);

      const real = await rewind(ctx, ...args, '--rebuild-state');
      expect(real.code).toBe(0);
      expect(real.out).toContain('sync state rebuilt from the tables');
      expect(real.out).toMatch(/removed [1-9]\d* Redis idempotency key\(s\)/);

      await restart();
      await expectEndState(ctx, reference, expected);
      console.log(`rewind after a CMS-only restore: ${Date.now() - started} ms`);
    });
  });
});
