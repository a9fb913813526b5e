import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Pool } from 'mysql2';
import { Kafka, logLevel } from 'kafkajs';
import { MetricsService } from '../src/metrics/metrics.service';
import type { EntityKind } from '../src/domain/entity-kind';
import {
  customerEvent,
  deletedEvent,
  orderEvent,
  productEvent,
  type TestEvent,
} from './support/events';
import { BROKERS, handledCount, type RunningService, TestContext } from './support/test-context';
import { RedisMonitor } from './support/redis-monitor';
import { waitFor } from './support/wait-for';

/**
 * The sync core end to end: a kafkajs producer writes to real topics on the local Kafka 3.9.1
 * broker, the real Nest service consumes them, and the MySQL rows are read back column by column.
 */
describe('sync core (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;

  beforeAll(async () => {
    await ctx.setUp(3);
    service = await ctx.startService();
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  /** Publishes and waits until the service has handled that many more events of the entity. */
  async function deliver(
    entity: EntityKind,
    events: Parameters<TestContext['publish']>[1],
    options?: { partition?: number; key?: string },
  ) {
    const before = await handledCount(service, entity);
    await ctx.publish(entity, events, options);
    await ctx.waitForHandled(service, entity, before + events.length);
  }

  const row = async (table: string, id: number) =>
    (await ctx.rows(`SELECT * FROM ${table} WHERE id = ?`, [id]))[0];
  const processed = (eventId: string) =>
    ctx.rows('SELECT * FROM processed_events WHERE event_id = ?', [eventId]);

  it('creates, updates and deletes a product', async () => {
    const created = productEvent(
      101,
      1,
      { description: null, stock: undefined, active: undefined },
      'created',
    );
    await deliver('product', [created]);
    expect(await row('cms_products', 101)).toEqual({
      id: 101,
      sku: 'SKU-101',
      name: 'Product 101 v1',
      description: null,
      price: '101.01',
      currency: 'EUR',
      stock: 0,
      active: 1,
      source_version: 1,
      source_occurred_at: '2026-11-20 10:00:00.001',
      synced_at: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
    });

    await deliver('product', [
      productEvent(101, 2, { name: 'Red T-shirt 👕 M', price: 19.9, active: false }),
    ]);
    expect(await row('cms_products', 101)).toMatchObject({
      name: 'Red T-shirt 👕 M',
      price: '19.90',
      stock: 2,
      active: 0,
      description: 'description v2',
      source_version: 2,
    });

    const deleted = deletedEvent('product', 101, 3);
    await deliver('product', [deleted]);
    expect(await row('cms_products', 101)).toBeUndefined();
    expect(await processed(deleted.eventId)).toEqual([
      expect.objectContaining({
        event_type: 'product.deleted',
        entity_id: 101,
        version: 3,
        outcome: 'applied',
        topic: ctx.topics.product,
      }),
    ]);
  });

  it('creates, updates and deletes a customer, with absent fields as the contract defaults', async () => {
    await deliver('customer', [
      customerEvent(
        201,
        1,
        { firstName: undefined, lastName: null, status: undefined, phone: '+49 30 1234' },
        'created',
      ),
    ]);
    expect(await row('cms_customers', 201)).toEqual({
      id: 201,
      email: 'c201.v1@example.com',
      first_name: null,
      last_name: null,
      phone: '+49 30 1234',
      status: 'active',
      source_version: 1,
      source_occurred_at: '2026-11-20 10:00:00.001',
      synced_at: expect.any(String),
    });
    await deliver('customer', [customerEvent(201, 2, { status: 'blocked', firstName: 'Zoë' })]);
    expect(await row('cms_customers', 201)).toMatchObject({
      first_name: 'Zoë',
      status: 'blocked',
      email: 'c201.v2@example.com',
      source_version: 2,
    });
    await deliver('customer', [deletedEvent('customer', 201, 3)]);
    expect(await row('cms_customers', 201)).toBeUndefined();
  });

  it('creates an order, replaces its items as a set, and deletes it with its items', async () => {
    await deliver('order', [orderEvent(301, 1, {}, 'created')]);
    expect(await row('cms_orders', 301)).toEqual({
      id: 301,
      customer_id: 7,
      status: 'paid',
      currency: 'EUR',
      total_amount: '30.00',
      placed_at: '2026-11-20 08:00:00.000',
      source_version: 1,
      source_occurred_at: '2026-11-20 10:00:00.001',
      synced_at: expect.any(String),
    });
    const items = () =>
      ctx.rows('SELECT * FROM cms_order_items WHERE order_id = ? ORDER BY line_no', [301]);
    expect(await items()).toEqual([
      { order_id: 301, line_no: 0, product_id: 1, quantity: 1, unit_price: '10.00' },
      { order_id: 301, line_no: 1, product_id: 2, quantity: 2, unit_price: '10.00' },
    ]);

    await deliver('order', [
      orderEvent(301, 2, {
        status: 'shipped',
        totalAmount: '5.5',
        items: [{ productId: 9, quantity: 5, unitPrice: 1.1 }],
      }),
    ]);
    expect(await row('cms_orders', 301)).toMatchObject({
      status: 'shipped',
      total_amount: '5.50',
      source_version: 2,
    });
    expect(await items()).toEqual([
      { order_id: 301, line_no: 0, product_id: 9, quantity: 5, unit_price: '1.10' },
    ]);

    await deliver('order', [deletedEvent('order', 301, 3)]);
    expect(await row('cms_orders', 301)).toBeUndefined();
    expect(await items()).toEqual([]);
  });

  it('applies the same eventId delivered 3 times once', async () => {
    const event = productEvent(401, 1);
    const applied = await service.count('product', 'applied');
    const duplicates = await service.count('product', 'duplicate');
    await deliver('product', [event, event, event]);
    expect(await service.count('product', 'applied')).toBe(applied + 1);
    expect(await service.count('product', 'duplicate')).toBe(duplicates + 2);
    expect(await processed(event.eventId)).toHaveLength(1);
    expect(await row('cms_products', 401)).toMatchObject({ source_version: 1 });
  });

  it('records a stale version as stale and changes nothing', async () => {
    await deliver('customer', [customerEvent(501, 5)]);
    const stale = customerEvent(501, 3, { email: 'stale@example.com' });
    const equal = customerEvent(501, 5, { email: 'equal@example.com' });
    await deliver('customer', [stale, equal]);
    expect(await row('cms_customers', 501)).toMatchObject({
      email: 'c501.v5@example.com',
      source_version: 5,
    });
    expect(await processed(stale.eventId)).toEqual([
      expect.objectContaining({ outcome: 'stale', version: 3 }),
    ]);
    expect(await processed(equal.eventId)).toEqual([
      expect.objectContaining({ outcome: 'stale', version: 5 }),
    ]);
  });

  it('lets the newest version win when one entity is spread over partitions out of order', async () => {
    const versions = [7, 2, 10, 1, 5, 9, 3, 8, 4, 6];
    const before = await handledCount(service, 'order');
    await Promise.all(
      versions.map((version, i) =>
        ctx.publish('order', [orderEvent(601, version, { totalAmount: `${version}.00` })], {
          partition: i % 3,
        }),
      ),
    );
    await ctx.waitForHandled(service, 'order', before + versions.length);
    expect(await row('cms_orders', 601)).toMatchObject({
      total_amount: '10.00',
      source_version: 10,
    });
    const recorded = await ctx.rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM processed_events WHERE entity_id = 601 AND event_type LIKE 'order.%'",
    );
    expect(recorded[0]?.n).toBe(10);
  });

  it('keeps a deleted entity deleted for stale updates and brings it back for a newer one', async () => {
    await deliver('product', [productEvent(701, 1), deletedEvent('product', 701, 4)]);
    await deliver('product', [productEvent(701, 3), productEvent(701, 4)]);
    expect(await row('cms_products', 701)).toBeUndefined();
    await deliver('product', [productEvent(701, 5, { name: 'back again' })]);
    expect(await row('cms_products', 701)).toMatchObject({ name: 'back again', source_version: 5 });
  });

  it('runs every pooled connection at READ COMMITTED', async () => {
    const dataSource = service.app.get<DataSource>(getDataSourceToken());
    // Hold several connections at once, so more than the first pooled one is checked.
    const runners = [1, 2, 3].map(() => dataSource.createQueryRunner());
    await Promise.all(runners.map((runner) => runner.connect()));
    try {
      const levels = await Promise.all(
        runners.map(async (runner) => {
          const rows: { level: string }[] = await runner.query('SELECT @@tx_isolation AS level');
          return rows[0]?.level;
        }),
      );
      expect(levels).toEqual(['READ-COMMITTED', 'READ-COMMITTED', 'READ-COMMITTED']);
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
  });

  /** Counts the connections the service's pool hands out from now until `stop`. */
  function watchAcquisitions() {
    const pool = (
      service.app.get<DataSource>(getDataSourceToken()).driver as unknown as { pool: Pool }
    ).pool;
    let count = 0;
    const onAcquire = () => count++;
    pool.on('acquire', onAcquire);
    return {
      count: () => count,
      reset: () => {
        count = 0;
      },
      stop: () => pool.removeListener('acquire', onAcquire),
    };
  }

  it('answers a Redis hit without taking a database connection', async () => {
    const acquired = watchAcquisitions();
    try {
      const event = productEvent(801, 1);
      await deliver('product', [event]);
      expect(acquired.count()).toBeGreaterThan(0);

      await waitFor('the Redis key', async () => (await ctx.redisHas(event.eventId)) || undefined);
      const metrics = service.app.get(MetricsService);
      const hits = await metrics.cacheCount('hit');
      acquired.reset();
      await deliver('product', [event]);
      expect(await metrics.cacheCount('hit')).toBe(hits + 1);
      expect(acquired.count()).toBe(0);
    } finally {
      acquired.stop();
    }
  });

  it('looks a fetch up in Redis once and answers a repeat within it without the database', async () => {
    const lookups: string[][] = [];
    const monitor = await RedisMonitor.start((args) => {
      if (args[0]?.toLowerCase() === 'mget') lookups.push(args.slice(1));
    });
    const acquired = watchAcquisitions();
    try {
      // One produce request to one partition is one record batch, so one fetch brings all three:
      // a new event, the same event again, and a second new event of another product.
      const first = productEvent(811, 1);
      const second = productEvent(812, 1);
      await deliver('product', [first, first, second], { partition: 0 });

      const ours = lookups.filter((keys) => keys.includes(`processed:event:${first.eventId}`));
      expect(ours).toEqual([
        [`processed:event:${first.eventId}`, `processed:event:${second.eventId}`],
      ]);
      // One connection either way: event mode runs its two transactions (none for the repeat) on
      // one held connection, batch mode one transaction for all.
      expect(acquired.count()).toBe(1);
      expect(await processed(first.eventId)).toHaveLength(1);
      expect(await row('cms_products', 812)).toMatchObject({ source_version: 1 });
      await waitFor('both Redis keys', async () =>
        (await ctx.redisHas(first.eventId)) && (await ctx.redisHas(second.eventId))
          ? true
          : undefined,
      );
    } finally {
      acquired.stop();
      monitor.stop();
    }
  });

  it('dead-letters an invalid message and keeps its partition moving', async () => {
    const good = productEvent(901, 1);
    const badPrice: TestEvent = productEvent(902, 1, { price: '1.999' });
    const before = await handledCount(service, 'product');
    // Same key, so all three land on one partition in this order.
    await ctx.publish('product', [{ raw: '{not json', key: '901' }, { ...badPrice }, good], {
      key: '901',
    });
    await ctx.waitForHandled(service, 'product', before + 3);

    expect(await row('cms_products', 901)).toMatchObject({ source_version: 1 });
    const errors = await ctx.rows<{
      error_type: string;
      error_message: string;
      event_id: string | null;
      payload: Buffer;
    }>('SELECT * FROM sync_errors WHERE topic = ? ORDER BY kafka_offset', [ctx.topics.product]);
    expect(errors.map((e) => [e.error_type, e.event_id])).toEqual([
      ['invalid_json', null],
      ['schema_violation', badPrice.eventId],
    ]);
    expect(errors[1]?.error_message).toBe(
      'data.price: must be a decimal ≥ 0 and < 10^10 with at most 2 places, got "1.999"',
    );
    expect(errors[0]?.payload.toString()).toBe('{not json');

    const kafka = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${ctx.groupId}-dlq-reader` });
    const seen: { key: string | undefined; type: string | undefined }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: `${ctx.topics.product}.dlq`, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push({
            key: message.key?.toString(),
            type: message.headers?.['x-error-type']?.toString(),
          });
          return Promise.resolve();
        },
      });
      await waitFor('two dead letters', () => seen.length >= 2);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([
      { key: '901', type: 'invalid_json' },
      { key: '901', type: 'schema_violation' },
    ]);
  });
});
