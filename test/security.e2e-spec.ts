import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { type BrokerHandle, ensureKafkaJars, startBroker } from '../scripts/kafka/local-kafka';
import { startApp } from '../src/bootstrap';
import { parseConfig, type Env } from '../src/config/app-config';
import { productEvent } from './support/events';
import { freePort } from './support/service-process';
import { waitFor } from './support/wait-for';

const USER = 'cms';
const PASSWORD = `scram-${randomBytes(6).toString('hex')}`;

/**
 * Kafka over SASL/SCRAM-SHA-256 for real: a private broker (own ports, own data folder) whose
 * second listener only admits the user created when its storage was formatted.
 */
describe('Kafka SASL/SCRAM', () => {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `cms_sync_test_${id}`;
  const topics = {
    product: `sec.${id}.product.changed`,
    customer: `sec.${id}.customer.changed`,
    order: `sec.${id}.order.changed`,
  };
  let dir: string;
  let broker: BrokerHandle | undefined;
  let db: Connection;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cms-sync-scram-'));
    await ensureKafkaJars(() => undefined);
    const [port, controllerPort, scramPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    broker = await startBroker({
      port,
      controllerPort,
      dataDir: join(dir, 'kafka'),
      logFile: join(dir, 'kafka.log'),
      heapMb: 256,
      scram: { port: scramPort, mechanism: 'SCRAM-SHA-256', username: USER, password: PASSWORD },
    });
    // Topics are created over the plaintext listener: that is the test's, not the service's.
    // The dead-letter topics too: the service's own creation at start can meet a fresh broker's
    // "does not host this topic-partition" race, which is not what this file tests.
    const admin = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics)
        .flatMap((topic) => [topic, `${topic}.dlq`])
        .map((topic) => ({ topic, numPartitions: 1 })),
    });
    await admin.disconnect();
    db = await createConnection({ host: '127.0.0.1', user: 'root', password: '' });
  }, 180_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await db?.end();
    await broker?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  function env(overrides: Env): Env {
    if (broker?.scramBrokers === undefined) throw new Error('broker not started');
    return {
      KAFKA_BROKERS: broker.scramBrokers,
      KAFKA_GROUP_ID: `sec-${id}`,
      KAFKA_TOPIC_PRODUCT: topics.product,
      KAFKA_TOPIC_CUSTOMER: topics.customer,
      KAFKA_TOPIC_ORDER: topics.order,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      DB_HOST: '127.0.0.1',
      DB_DATABASE: database,
      REDIS_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: 'error',
      ...overrides,
    };
  }

  it('consumes over the SCRAM listener with the right password, read from KAFKA_SASL_PASSWORD_FILE', async () => {
    const passwordFile = join(dir, 'kafka-password');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const app = await startApp(
      parseConfig(env({ KAFKA_SASL_PASSWORD_FILE: passwordFile })),
      (e) => {
        throw e;
      },
    );
    apps.push(app);

    if (broker === undefined) throw new Error('broker not started');
    const producer = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const event = productEvent(41, 1);
    await producer.send({
      topic: topics.product,
      messages: [{ key: '41', value: JSON.stringify(event) }],
    });
    await producer.disconnect();

    const row = await waitFor('product 41 to be applied', async () => {
      const [rows] = await db.query<RowDataPacket[]>(
        `SELECT sku FROM \`${database}\`.cms_products WHERE id = 41`,
      );
      return rows[0];
    });
    expect(row.sku).toBe('SKU-41');
  });

  it('refuses to start with a wrong password, saying that SASL authentication failed', async () => {
    // Bad input: the right user with a password the broker does not know.
    const started = Date.now();
    const config = parseConfig(
      env({ KAFKA_SASL_PASSWORD: 'not-the-password', KAFKA_GROUP_ID: `sec-wrong-${id}` }),
    );
    const error = await startApp(config, (e) => {
      throw e;
    }).then(
      (app) => {
        apps.push(app);
        return new Error('started despite a wrong SASL password');
      },
      (err: unknown) => err as Error,
    );
    expect(error.message).toMatch(/SASL/);
    expect(error.message).toMatch(/authentication failed/i);
    expect(error.message).not.toContain('not-the-password');
    // Not retried for minutes: an authentication failure is final.
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
