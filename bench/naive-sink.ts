/**
 * The `naive` mode: the way such services are often first written, kept here only to measure
 * against. A kafkajs consumer (eachMessage) runs three separate statements per event — check
 * processed_events, apply the row with a plain upsert or delete, mark the event processed —
 * with no transaction, no version rule and no Redis, each on whatever pooled connection it
 * gets. It is not correct (a stale event overwrites a newer row, a crash between apply and
 * mark applies twice); the benchmark's end-state check says so.
 *
 * Runs as its own process so its CPU and memory are measured like the service's. Reads the
 * service's variable names; the benchmark has already created the schema.
 */
import { Kafka, logLevel } from 'kafkajs';
import { createPool, type Pool } from 'mysql2/promise';

interface Envelope {
  eventId: string;
  type: string;
  occurredAt: string;
  version: number;
  data: Record<string, unknown> & { id: number };
}

interface Item {
  productId: number;
  quantity: number;
  unitPrice: string;
}

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

async function apply(pool: Pool, kind: string, event: Envelope): Promise<void> {
  const d = event.data;
  const deleted = event.type.endsWith('.deleted');
  const occurredAt = new Date(event.occurredAt);
  const now = new Date();
  switch (kind) {
    case 'product':
      if (deleted) {
        await pool.query('DELETE FROM cms_products WHERE id = ?', [d.id]);
        return;
      }
      await pool.query(
        `INSERT INTO cms_products (id, sku, name, description, price, currency, stock, active,
           source_version, source_occurred_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE sku = VALUES(sku), name = VALUES(name),
           description = VALUES(description), price = VALUES(price), currency = VALUES(currency),
           stock = VALUES(stock), active = VALUES(active), source_version = VALUES(source_version),
           source_occurred_at = VALUES(source_occurred_at), synced_at = VALUES(synced_at)`,
        [
          d.id,
          d.sku,
          d.name,
          d.description ?? null,
          d.price,
          d.currency,
          d.stock ?? 0,
          d.active ?? true,
          event.version,
          occurredAt,
          now,
        ],
      );
      return;
    case 'customer':
      if (deleted) {
        await pool.query('DELETE FROM cms_customers WHERE id = ?', [d.id]);
        return;
      }
      await pool.query(
        `INSERT INTO cms_customers (id, email, first_name, last_name, phone, status,
           source_version, source_occurred_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE email = VALUES(email), first_name = VALUES(first_name),
           last_name = VALUES(last_name), phone = VALUES(phone), status = VALUES(status),
           source_version = VALUES(source_version), source_occurred_at = VALUES(source_occurred_at),
           synced_at = VALUES(synced_at)`,
        [
          d.id,
          d.email,
          d.firstName ?? null,
          d.lastName ?? null,
          d.phone ?? null,
          d.status ?? 'active',
          event.version,
          occurredAt,
          now,
        ],
      );
      return;
    default: {
      await pool.query('DELETE FROM cms_order_items WHERE order_id = ?', [d.id]);
      if (deleted) {
        await pool.query('DELETE FROM cms_orders WHERE id = ?', [d.id]);
        return;
      }
      await pool.query(
        `INSERT INTO cms_orders (id, customer_id, status, currency, total_amount, placed_at,
           source_version, source_occurred_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE customer_id = VALUES(customer_id), status = VALUES(status),
           currency = VALUES(currency), total_amount = VALUES(total_amount),
           placed_at = VALUES(placed_at), source_version = VALUES(source_version),
           source_occurred_at = VALUES(source_occurred_at), synced_at = VALUES(synced_at)`,
        [
          d.id,
          d.customerId,
          d.status,
          d.currency,
          d.totalAmount,
          new Date(String(d.placedAt)),
          event.version,
          occurredAt,
          now,
        ],
      );
      const items = d.items as Item[];
      if (items.length > 0) {
        await pool.query(
          'INSERT INTO cms_order_items (order_id, line_no, product_id, quantity, unit_price) VALUES ?',
          [
            items.map((item, lineNo) => [
              d.id,
              lineNo,
              item.productId,
              item.quantity,
              item.unitPrice,
            ]),
          ],
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const topics: Record<string, string> = {
    [env('KAFKA_TOPIC_PRODUCT', 'product.changed')]: 'product',
    [env('KAFKA_TOPIC_CUSTOMER', 'customer.changed')]: 'customer',
    [env('KAFKA_TOPIC_ORDER', 'order.changed')]: 'order',
  };
  const pool = createPool({
    host: env('DB_HOST', 'localhost'),
    port: Number(env('DB_PORT', '3306')),
    user: env('DB_USERNAME', 'root'),
    password: env('DB_PASSWORD', ''),
    database: env('DB_DATABASE', 'cms'),
    connectionLimit: Number(env('DB_CONNECTION_POOL_SIZE', '5')),
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
  });
  const kafka = new Kafka({
    clientId: 'cms-sync-naive',
    brokers: env('KAFKA_BROKERS', 'localhost:9092').split(','),
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({ groupId: env('KAFKA_GROUP_ID', 'cms-sync') });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(topics), fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: Number(env('KAFKA_PARTITIONS_CONCURRENCY', '3')),
    eachMessage: async ({ topic, partition, message }) => {
      const event = JSON.parse(message.value?.toString('utf8') ?? 'null') as Envelope;
      const [seen] = await pool.query('SELECT 1 FROM processed_events WHERE event_id = ?', [
        event.eventId,
      ]);
      if ((seen as unknown[]).length > 0) return;
      await apply(pool, topics[topic] ?? 'order', event);
      await pool.query(
        `INSERT IGNORE INTO processed_events (event_id, event_type, entity_id, version, outcome,
           topic, kafka_partition, kafka_offset, processed_at) VALUES (?, ?, ?, ?, 'applied', ?, ?, ?, ?)`,
        [
          event.eventId,
          event.type,
          event.data.id,
          event.version,
          topic,
          partition,
          message.offset,
          new Date(),
        ],
      );
    },
  });
  console.log('naive sink: consuming');

  const stop = () => {
    consumer
      .disconnect()
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error('naive sink failed to start:', err);
  process.exit(1);
});
