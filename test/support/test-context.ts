import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, Partitioners, type Producer, type Admin } from 'kafkajs';
import Redis from 'ioredis';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { startApp } from '../../src/bootstrap';
import { parseConfig, type AppConfig, type Env } from '../../src/config/app-config';
import { computeLag } from '../../src/metrics/consumer-lag';
import { MetricsService } from '../../src/metrics/metrics.service';
import type { EntityKind } from '../../src/domain/entity-kind';
import type { SyncOutcome } from '../../src/domain/sync-outcome';
import type { TestEvent } from './events';
import { TEST_BROKERS } from './kafka-broker';
import { waitFor } from './wait-for';

export const BROKERS = TEST_BROKERS;
const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

export interface RunningService {
  readonly app: INestApplication;
  readonly config: AppConfig;
  count(entity: EntityKind, outcome: SyncOutcome): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Everything one test file needs, fresh: a database whose name says test, topics and a consumer
 * group no other file uses, a kafkajs producer, and the real service started in-process.
 */
export class TestContext {
  readonly id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly database = `cms_sync_test_${this.id}`;
  readonly topics: Record<EntityKind, string> = {
    product: `test.${this.id}.product.changed`,
    customer: `test.${this.id}.customer.changed`,
    order: `test.${this.id}.order.changed`,
  };
  readonly groupId = `test-${this.id}`;
  private readonly kafka = new Kafka({
    clientId: `test-${this.id}`,
    brokers: [BROKERS],
    logLevel: logLevel.NOTHING,
  });
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  db!: Connection;
  private readonly services: RunningService[] = [];

  async setUp(partitions = 3): Promise<void> {
    this.db = await createConnection({ ...DB, dateStrings: true, supportBigNumbers: true });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(this.topics).map((topic) => ({ topic, numPartitions: partitions })),
    });
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
  }

  async tearDown(): Promise<void> {
    for (const service of this.services.splice(0)) await service.stop();
    await this.producer?.disconnect();
    if (this.admin) {
      const topics = Object.values(this.topics);
      const existing = new Set(await this.admin.listTopics());
      await this.admin.deleteTopics({
        topics: [...topics, ...topics.map((t) => `${t}.dlq`)].filter((t) => existing.has(t)),
      });
      await this.admin.disconnect();
    }
    await this.db?.query(`DROP DATABASE IF EXISTS \`${this.database}\``);
    await this.db?.end();
  }

  env(overrides: Env = {}): Env {
    return {
      KAFKA_BROKERS: BROKERS,
      KAFKA_GROUP_ID: this.groupId,
      KAFKA_TOPIC_PRODUCT: this.topics.product,
      KAFKA_TOPIC_CUSTOMER: this.topics.customer,
      KAFKA_TOPIC_ORDER: this.topics.order,
      DB_HOST: DB.host,
      DB_DATABASE: this.database,
      REDIS_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      // npm test runs the integration suite once per sync mode; unset, the service's default.
      ...(process.env.TEST_SYNC_MODE ? { SYNC_MODE: process.env.TEST_SYNC_MODE } : {}),
      ...overrides,
    };
  }

  async startService(overrides: Env = {}): Promise<RunningService> {
    const config = parseConfig(this.env(overrides));
    const app = await startApp(config, (error) => {
      throw error;
    });
    const metrics = app.get(MetricsService);
    let stopped = false;
    const service: RunningService = {
      app,
      config,
      count: (entity, outcome) => metrics.eventCount(entity, outcome),
      stop: async () => {
        if (!stopped) {
          stopped = true;
          await app.close();
        }
      },
    };
    this.services.push(service);
    return service;
  }

  /** Publishes events (or raw values) keyed by entity id unless a key or partition is given. */
  async publish(
    entity: EntityKind,
    events: readonly (TestEvent | { raw: string | Buffer; key?: string })[],
    options: { partition?: number; key?: string } = {},
  ): Promise<void> {
    if (!this.producer) throw new Error('setUp first');
    await this.producer.send({
      topic: this.topics[entity],
      acks: -1,
      messages: events.map((event) =>
        'raw' in event
          ? {
              key: event.key ?? options.key ?? null,
              value: event.raw,
              partition: options.partition,
            }
          : {
              key: options.key ?? String(event.data.id),
              value: JSON.stringify(event),
              partition: options.partition,
            },
      ),
    });
  }

  /** Sum over every partition of the entities' topics of the group's lag, as the service counts it. */
  async lag(entities: readonly EntityKind[] = ['product', 'customer', 'order']): Promise<number> {
    if (!this.admin) throw new Error('setUp first');
    let sum = 0;
    for (const entity of entities) {
      const topic = this.topics[entity];
      const ends = await this.admin.fetchTopicOffsets(topic);
      const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
      for (const { lag } of computeLag(ends, committed?.partitions ?? [])) sum += lag;
    }
    return sum;
  }

  async redisHas(eventId: string): Promise<boolean> {
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    try {
      await redis.connect();
      return (await redis.exists(`processed:event:${eventId}`)) === 1;
    } finally {
      redis.disconnect();
    }
  }

  /** Reads the service's database; the service creates it when it starts. */
  async rows<T = RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> {
    await this.db.query(`USE \`${this.database}\``);
    const [rows] = await this.db.query(sql, params);
    return rows as T[];
  }

  /** Waits until the service has handled `total` events of an entity, whatever their outcome. */
  async waitForHandled(
    service: RunningService,
    entity: EntityKind,
    total: number,
    timeoutMs = 60_000,
  ): Promise<void> {
    await waitFor(
      `${total} ${entity} events handled`,
      async () => (await handledCount(service, entity)) >= total,
      { timeoutMs },
    );
  }
}

export async function handledCount(service: RunningService, entity: EntityKind): Promise<number> {
  let sum = 0;
  for (const outcome of ['applied', 'duplicate', 'stale', 'invalid'] as const)
    sum += await service.count(entity, outcome);
  return sum;
}
