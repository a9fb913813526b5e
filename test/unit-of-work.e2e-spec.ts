import { randomBytes } from 'node:crypto';
import type { Pool, PoolConnection } from 'mysql2';
import { createConnection, type Connection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { DuplicateKeyError } from '../src/common/errors/duplicate-key.error';
import { parseConfig } from '../src/config/app-config';
import type { EntityKind } from '../src/domain/entity-kind';
import type { SyncEvent, UpsertEvent } from '../src/domain/sync-event';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { ProcessedEventRepository } from '../src/persistence/processed-event.repository';
import { ProductRepository } from '../src/persistence/product.repository';
import { openDataSource } from '../src/persistence/schema';
import { SqlConnection } from '../src/persistence/sql-connection';
import type { SyncUnitOfWork } from '../src/sync/sync-unit-of-work';
import { unitOfWorkFor } from './support/unit-of-work';
import {
  deletedEvent,
  orderEvent,
  parsedEvent,
  productEvent,
  type TestEvent,
} from './support/events';

const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/**
 * The unit of work's SQL against a real MariaDB, two connections racing on one entity: the
 * version lock, the guarded upsert and delete, and the tombstones that only deletes leave.
 * No Kafka here: events are parsed from the same JSON a producer would send.
 */
describe('SyncUnitOfWork', () => {
  const database = `cms_sync_test_uow_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let dataSource: DataSource;
  let db: Connection;
  let unitOfWork: SyncUnitOfWork;
  let offset = 0;

  const parsed = (kind: EntityKind, event: TestEvent): SyncEvent =>
    parsedEvent(kind, event, String(offset++));
  const product = (id: number, version: number) => parsed('product', productEvent(id, version));
  const deleted = (kind: EntityKind, id: number, version: number) =>
    parsed(kind, deletedEvent(kind, id, version));
  const rows = async (sql: string, params: unknown[] = []) =>
    (await db.query(sql, params))[0] as Record<string, unknown>[];
  const outcome = async (event: SyncEvent) =>
    (await rows('SELECT outcome FROM processed_events WHERE event_id = ?', [event.eventId]))[0]
      ?.outcome;

  beforeAll(async () => {
    dataSource = await openDataSource({
      ...dataSourceOptions(
        parseConfig({ DB_HOST: DB.host, DB_DATABASE: database, DB_CONNECTION_POOL_SIZE: '4' }).db,
      ),
      migrationsRun: true,
      logger: 'simple-console',
      logging: false,
    });
    db = await createConnection({ ...DB, database, dateStrings: true, supportBigNumbers: true });
    unitOfWork = unitOfWorkFor(dataSource);
  });

  afterAll(async () => {
    await db?.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await db?.end();
    await dataSource?.destroy();
  });

  /** Applies one event, retrying as the service does when a concurrent writer won a key. */
  const apply = async (events: SyncEvent[]) => {
    for (;;) {
      try {
        return await unitOfWork.apply(events);
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable !== true && !isDeadlock(err)) throw err;
      }
    }
  };
  const isDeadlock = (err: unknown) =>
    /ER_LOCK_DEADLOCK/.test(String((err as { driverError?: { code?: string } }).driverError?.code));

  it('two connections racing on one new product: the higher version wins, the other is stale', async () => {
    // Sends versions 3 and 5 of each product id 100..119 at once on two connections.
    for (let id = 100; id < 120; id++) {
      const older = product(id, 3);
      const newer = product(id, 5);
      await Promise.all([apply([older]), apply([newer])]);
      const [row] = await rows('SELECT source_version FROM cms_products WHERE id = ?', [id]);
      expect(Number(row?.source_version)).toBe(5);
      expect(await outcome(newer)).toBe('applied');
      // Older first: applied then overwritten; newer first: stale. Never applied after newer.
      expect(['applied', 'stale']).toContain(await outcome(older));
    }
    // Only first sightings wrote the lock table: no version rows for entities not deleted.
    expect(
      await rows(
        'SELECT version, deleted FROM sync_entity_versions WHERE entity_id BETWEEN 100 AND 119',
      ),
    ).toEqual(Array.from({ length: 20 }, () => ({ version: 0, deleted: 0 })));
  });

  it('updates racing on existing products, and an update racing a delete: the newest version wins', async () => {
    // Products 130..149 exist at v2. At once on two connections: v4 and v6 of each; then, for
    // ids 130..139, v8 and a delete at v10, and for 140..149, v12 and a delete at v10.
    for (let id = 130; id < 150; id++) await apply([product(id, 2)]);
    for (let id = 130; id < 150; id++) {
      const [older, newer] = [product(id, 4), product(id, 6)];
      await Promise.all([apply([older]), apply([newer])]);
      expect(await rows('SELECT source_version FROM cms_products WHERE id = ?', [id])).toEqual([
        { source_version: 6 },
      ]);
      expect(['applied', 'stale']).toContain(await outcome(older));
      const deletedFirst = id < 140;
      await Promise.all([
        apply([product(id, deletedFirst ? 8 : 12)]),
        apply([deleted('product', id, 10)]),
      ]);
      expect(await rows('SELECT source_version FROM cms_products WHERE id = ?', [id])).toEqual(
        deletedFirst ? [] : [{ source_version: 12 }],
      );
    }
  });

  it('a delete racing a stale create of a new product leaves no row, and its tombstone', async () => {
    // Sends, at once on two connections, product 200+i version 4 and its delete at version 10.
    for (let id = 200; id < 220; id++) {
      await Promise.all([apply([product(id, 4)]), apply([deleted('product', id, 10)])]);
      expect(await rows('SELECT id FROM cms_products WHERE id = ?', [id])).toEqual([]);
      expect(
        await rows(
          'SELECT version, deleted FROM sync_entity_versions WHERE entity = ? AND entity_id = ?',
          ['product', id],
        ),
      ).toEqual([{ version: 10, deleted: 1 }]);
    }
  });

  it('after a delete a stale update stays out and a newer one brings the row back', async () => {
    // Sends product 300 v2, its delete v6, a stale v4, then v8; and order 300 v2, delete v4.
    await apply([product(300, 2)]);
    await apply([deleted('product', 300, 6)]);
    const stale = product(300, 4);
    await apply([stale]);
    expect(await outcome(stale)).toBe('stale');
    expect(await rows('SELECT id FROM cms_products WHERE id = 300')).toEqual([]);
    await apply([product(300, 8)]);
    expect(await rows('SELECT source_version FROM cms_products WHERE id = 300')).toEqual([
      { source_version: 8 },
    ]);

    await apply([parsed('order', orderEvent(300, 2))]);
    expect(await rows('SELECT line_no FROM cms_order_items WHERE order_id = 300')).toHaveLength(2);
    await apply([deleted('order', 300, 4)]);
    expect(await rows('SELECT id FROM cms_orders WHERE id = 300')).toEqual([]);
    expect(await rows('SELECT line_no FROM cms_order_items WHERE order_id = 300')).toEqual([]);
  });

  it('the upsert and the delete guard the version themselves', async () => {
    // Writes product 400 v9, then straight through the repository an older v7 and a delete at v8.
    await apply([product(400, 9)]);
    const older = product(400, 7);
    await SqlConnection.transaction(dataSource, (sql) => {
      new ProductRepository().upsert(sql, [older as never], new Date());
      new ProductRepository().delete(sql, [{ id: 400, version: 8 }]);
      return Promise.resolve();
    });
    expect(await rows('SELECT source_version, stock FROM cms_products WHERE id = 400')).toEqual([
      { source_version: 9, stock: 9 },
    ]);
  });

  it('the update after a claim writes nothing when the claim found the event recorded, or the row is as new', async () => {
    // Product 405 v4 is applied; then, straight through the repositories, v6 claimed by a
    // processed_events row already there, v4 again under a new event id, and v6 under a new one.
    await apply([product(405, 4)]);
    const products = new ProductRepository();
    const processed = new ProcessedEventRepository();
    const claimAndUpdate = (event: SyncEvent) =>
      SqlConnection.transaction(dataSource, async (sql) => {
        const [claimed, updated] = await sql.queries([
          processed.claim(event, new Date()),
          products.updateIfClaimed(event as UpsertEvent<'product'>, new Date()),
        ]);
        return [processed.isClaimed(claimed), products.isUpdated(updated)];
      });
    const recorded = product(405, 6);
    await db.query(
      "INSERT INTO processed_events (event_id, event_type, entity_id, version, outcome, topic, kafka_partition, kafka_offset, processed_at) VALUES (?, 'product.updated', 405, 6, 'applied', 't', 0, 0, NOW())",
      [recorded.eventId],
    );
    expect(await claimAndUpdate(recorded)).toEqual([false, false]);
    expect(await claimAndUpdate(product(405, 4))).toEqual([true, false]);
    expect(await rows('SELECT source_version FROM cms_products WHERE id = 405')).toEqual([
      { source_version: 4 },
    ]);
    expect(await claimAndUpdate(product(405, 6))).toEqual([true, true]);
    expect(await rows('SELECT source_version, stock FROM cms_products WHERE id = 405')).toEqual([
      { source_version: 6, stock: 6 },
    ]);
  });

  it('an update of a row that exists writes every column and the sync columns', async () => {
    // Product 410 v2, then v4 with other values in every column: the UPDATE writes them all.
    await apply([product(410, 2)]);
    const data = {
      sku: 'SKU-NEW',
      name: 'New name',
      description: null,
      price: '99.95',
      currency: 'USD',
      stock: 17,
    };
    const newer = parsed('product', productEvent(410, 4, { ...data, active: false }));
    expect((await apply([newer])).recorded.get(newer.eventId)).toBe('applied');
    expect(
      await rows(
        'SELECT sku, name, description, price, currency, stock, active, source_version, source_occurred_at FROM cms_products WHERE id = 410',
      ),
    ).toEqual([
      {
        ...data,
        active: 0,
        source_version: 4,
        // occurredAt is 10:00:00 plus the version in ms.
        source_occurred_at: expect.stringMatching(/\.004$/),
      },
    ]);
  });

  it('a batch stores strings beyond Latin-1 as mysql2 sends them: emoji, CJK, quotes', async () => {
    // Products 700-704 in one transaction: their rows' VALUES carry such strings as hex of their
    // UTF-8 bytes. Product 701 is then updated alone: the guarded UPDATE escapes as mysql2 does.
    const names = [
      'Café ☕',
      'emoji 💥, and 𝄞 outside the BMP',
      "it's 中文 \\ ' \"",
      'line\u2028separator',
      'Latin-1 only: ünïcödé ÿ',
    ];
    const batch = names.map((name, i) => parsed('product', productEvent(700 + i, 1, { name })));
    await apply(batch);
    const alone = parsed('product', productEvent(701, 2, { name: `${names[0]} ${names[2]}` }));
    expect((await apply([alone])).recorded.get(alone.eventId)).toBe('applied');

    const expected = [...names];
    expected[1] = `${names[0]} ${names[2]}`;
    const stored = await rows(
      'SELECT name FROM cms_products WHERE id BETWEEN 700 AND 704 ORDER BY id',
    );
    expect(stored.map((row) => row.name)).toEqual(expected);
    // And as the same strings come back through mysql2's own escaping, on the test's connection.
    const sent = async (name: string) =>
      (await rows('SELECT CONVERT(? USING utf8mb4) AS name', [name]))[0]?.name;
    expect(await Promise.all(expected.map(sent))).toEqual(expected);
  });

  it('one event again, an older one and an order update: duplicate, stale and applied with its items', async () => {
    // Product 420 v4, then the same event again, then v2 (older, a new event id); order 420 v2
    // with two items, then v4 with one.
    const first = product(420, 4);
    expect((await apply([first])).recorded.get(first.eventId)).toBe('applied');
    const again = await apply([first]);
    expect(again.recorded.size).toBe(0);
    expect(again.alreadyProcessed.get(first.eventId)).toBe('applied');
    const older = product(420, 2);
    expect((await apply([older])).recorded.get(older.eventId)).toBe('stale');
    expect(await outcome(older)).toBe('stale');
    expect(await rows('SELECT source_version FROM cms_products WHERE id = 420')).toEqual([
      { source_version: 4 },
    ]);
    const olderAgain = await apply([older]);
    expect(olderAgain.alreadyProcessed.get(older.eventId)).toBe('stale');

    await apply([parsed('order', orderEvent(420, 2))]);
    const items = [{ productId: 9, quantity: 3, unitPrice: '1.50' }];
    const update = parsed('order', orderEvent(420, 4, { items, totalAmount: '4.50' }));
    expect((await apply([update])).recorded.get(update.eventId)).toBe('applied');
    expect(
      await rows(
        'SELECT line_no, product_id, quantity, unit_price FROM cms_order_items WHERE order_id = 420',
      ),
    ).toEqual([{ line_no: 0, product_id: 9, quantity: 3, unit_price: '1.50' }]);
  });

  it('order updates in one transaction replace each item set: one grows, one shrinks, one empties, one is new', async () => {
    const line = (productId: number) => ({ productId, quantity: 1, unitPrice: '2.00' });
    await apply([
      parsed('order', orderEvent(440, 1, { items: [line(1)] })),
      parsed('order', orderEvent(441, 1, { items: [line(1), line(2), line(3)] })),
      parsed('order', orderEvent(442, 1, { items: [line(1), line(2)] })),
    ]);
    await apply([
      parsed('order', orderEvent(440, 2, { items: [line(4), line(5), line(6)] })),
      parsed('order', orderEvent(441, 2, { items: [line(7)] })),
      parsed('order', orderEvent(442, 2, { items: [] })),
      parsed('order', orderEvent(443, 2, { items: [line(8), line(9)] })),
    ]);
    expect(
      await rows(
        'SELECT order_id, line_no, product_id FROM cms_order_items WHERE order_id BETWEEN 440 AND 443 ORDER BY order_id, line_no',
      ),
    ).toEqual([
      { order_id: 440, line_no: 0, product_id: 4 },
      { order_id: 440, line_no: 1, product_id: 5 },
      { order_id: 440, line_no: 2, product_id: 6 },
      { order_id: 441, line_no: 0, product_id: 7 },
      { order_id: 443, line_no: 0, product_id: 8 },
      { order_id: 443, line_no: 1, product_id: 9 },
    ]);
  });

  describe('a session: one held connection, each COMMIT carried by the next transaction', () => {
    /** Counts the round trips (mysql2 queries) on the connections the pool hands out meanwhile. */
    async function countingRoundTrips<T>(work: () => Promise<T>): Promise<[T, number]> {
      const pool = (dataSource.driver as MysqlDriver).pool as Pool;
      let count = 0;
      const restore: (() => boolean)[] = [];
      const onAcquire = (connection: PoolConnection) => {
        const query = connection.query.bind(connection);
        connection.query = ((...args: Parameters<typeof query>) => {
          count++;
          return query(...args);
        }) as typeof query;
        restore.push(() => delete (connection as { query?: unknown }).query);
      };
      pool.on('acquire', onAcquire);
      try {
        return [await work(), count];
      } finally {
        pool.removeListener('acquire', onAcquire);
        for (const undo of restore) undo();
      }
    }

    it('three products created, then updated, in a session: one round trip each and one for the last COMMIT; each is committed once the next one has started', async () => {
      const created = [600, 601, 602].map((id) =>
        parsed('product', productEvent(id, 1, {}, 'created')),
      );
      const updated = [600, 601, 602].map((id) => product(id, 2));
      const [p1, p2, p3] = created as [SyncEvent, SyncEvent, SyncEvent];
      const seen: unknown[][] = [];
      const [, roundTrips] = await countingRoundTrips(() =>
        unitOfWork.session(async (session) => {
          for (const event of [...created, ...updated]) {
            await session.apply([event]);
            if (created.includes(event)) {
              seen.push([await outcome(p1), await outcome(p2), await outcome(p3)]);
            }
          }
        }),
      );
      // Read from another connection after each apply: only the transactions before it committed.
      expect(seen).toEqual([
        [undefined, undefined, undefined],
        ['applied', undefined, undefined],
        ['applied', 'applied', undefined],
      ]);
      for (const event of [...created, ...updated]) expect(await outcome(event)).toBe('applied');
      expect(
        await rows('SELECT id, source_version FROM cms_products WHERE id IN (600, 601, 602)'),
      ).toEqual([600, 601, 602].map((id) => ({ id, source_version: 2 })));
      // Six transactions on their own take two round trips each.
      expect(roundTrips).toBe(7);
    });

    it('a carried round trip that fails (a lock row another connection inserted meanwhile) rolls the held transaction back and ends the session', async () => {
      // Product 610 is new: its lock row insert is held when another connection inserts that row.
      const first = product(610, 1);
      const second = product(611, 1);
      let failure: unknown;
      let committed: number | undefined;
      const ended = await unitOfWork
        .session(async (session) => {
          await session.apply([first]);
          await db.query(
            "INSERT INTO sync_entity_versions (entity, entity_id, version, deleted, updated_at) VALUES ('product', 610, 0, 0, NOW())",
          );
          await session.apply([second]).catch((err: unknown) => {
            failure = err;
          });
          committed = session.committed;
          await session.apply([second]);
        })
        .then(
          () => 'resolved',
          (err: unknown) => (err as Error).message,
        );
      expect(ended).toContain('failed earlier');
      expect(failure).toBeInstanceOf(DuplicateKeyError);
      // The held writes failed before the carried COMMIT: the session knows none committed.
      expect(committed).toBe(0);
      expect(await outcome(first)).toBeUndefined();
      expect(await outcome(second)).toBeUndefined();
      // Nothing of the session is left open or locked: both apply at once on the usual path.
      expect((await apply([first])).recorded.get(first.eventId)).toBe('applied');
      expect((await apply([second])).recorded.get(second.eventId)).toBe('applied');
    });

    it('a round trip that fails after the COMMIT it carried (a trigger refuses the next update): the held transaction is committed and the session counts it', async () => {
      await apply([product(630, 1), product(631, 1)]);
      await db.query(
        "CREATE TRIGGER refuse_631 BEFORE UPDATE ON cms_products FOR EACH ROW IF NEW.id = 631 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'product 631 refused by the test'; END IF",
      );
      const held = product(630, 2);
      const refused = product(631, 2);
      const counts: number[] = [];
      try {
        const ended = await unitOfWork
          .session(async (session) => {
            await session.apply([held]);
            counts.push(session.committed);
            await session.apply([refused]).finally(() => counts.push(session.committed));
          })
          .then(
            () => 'resolved',
            (err: unknown) => String(err),
          );
        expect(ended).toContain('product 631 refused by the test');
      } finally {
        await db.query('DROP TRIGGER refuse_631');
      }
      // The update of 631 went in the same round trip as 630's COMMIT, after it.
      expect(counts).toEqual([0, 1]);
      expect(await outcome(held)).toBe('applied');
      expect(await outcome(refused)).toBeUndefined();
      expect(
        await rows('SELECT id, source_version FROM cms_products WHERE id IN (630, 631)'),
      ).toEqual([
        { id: 630, source_version: 2 },
        { id: 631, source_version: 1 },
      ]);
    });

    it('a session whose body fails rolls back the transaction it held and frees its locks', async () => {
      // Product 620 v1 is committed first; the session locks it for v2 and then fails.
      await apply([product(620, 1)]);
      const newer = product(620, 2);
      await expect(
        unitOfWork.session(async (session) => {
          await session.apply([newer]);
          throw new Error('the consumer lost the partition');
        }),
      ).rejects.toThrow('the consumer lost the partition');
      expect(await outcome(newer)).toBeUndefined();
      expect(await rows('SELECT source_version FROM cms_products WHERE id = 620')).toEqual([
        { source_version: 1 },
      ]);
      await db.query('SET SESSION innodb_lock_wait_timeout = 2');
      try {
        await db.query('SELECT * FROM sync_entity_versions WHERE entity_id = 620 FOR UPDATE');
      } finally {
        await db.query('SET SESSION innodb_lock_wait_timeout = DEFAULT');
      }
      expect((await apply([newer])).recorded.get(newer.eventId)).toBe('applied');
    });
  });
});
