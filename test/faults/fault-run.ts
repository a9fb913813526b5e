import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel, Partitioners } from 'kafkajs';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { EntityKind } from '../../src/domain/entity-kind';
import {
  buildFaultStream,
  FAULT_PARTITIONS,
  type FaultStream,
  type Row,
  type StreamMessage,
} from '../support/fault-stream';
import { TEST_BROKERS } from '../support/kafka-broker';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';

/** The sync modes to run every fault in: `FAULT_SYNC_MODES=event,batch`. */
export function syncModes(): string[] {
  return (process.env.FAULT_SYNC_MODES ?? 'event,batch')
    .split(',')
    .map((mode) => mode.trim())
    .filter((mode) => mode !== '');
}

export interface Dependencies {
  readonly brokers: string;
  readonly dbPort: number;
  readonly redisPort: number;
}

export const SHARED: Dependencies = { brokers: TEST_BROKERS, dbPort: 3306, redisPort: 6379 };

/** One line of docs/reliability.md. */
export interface Figures {
  fault: string;
  mode: string;
  produced: number;
  /** Messages in the topics at the end: `produced`, or more if the test's producer doubled one. */
  inTopics: number;
  distinctValid: number;
  applied: number;
  stale: number;
  duplicatesSkipped: number;
  deadLettered: number;
  invalidSent: number;
  lost: number;
  appliedTwice: number;
  recoveryMs: number;
  /** Fault-specific observations (exit codes, errors the service logged). */
  notes: string;
}

const ENTITY_TABLES = [
  ['cms_products', 'product', 'id'],
  ['cms_customers', 'customer', 'id'],
  ['cms_orders', 'order', 'id'],
] as const;
const COMPARED_TABLES = [
  ['cms_products', 'id'],
  ['cms_customers', 'id'],
  ['cms_orders', 'id'],
  ['cms_order_items', 'order_id, line_no'],
] as const;

/**
 * One fault test's world: fresh topics (6 partitions) and group, a fresh database whose name
 * says test, the stream, the service processes, and the measurements, all from outside the
 * service (it gets killed, so its own counters cannot be trusted).
 */
export class FaultRun {
  readonly id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly database = `cms_sync_test_fault_${this.id}`;
  readonly topics: Record<EntityKind, string> = {
    product: `fault.${this.id}.product.changed`,
    customer: `fault.${this.id}.customer.changed`,
    order: `fault.${this.id}.order.changed`,
  };
  readonly groupId = `fault-${this.id}`;
  readonly dir = mkdtempSync(join(tmpdir(), `cms-sync-fault-${this.id}-`));
  readonly stream: FaultStream;
  readonly services: ServiceProcess[] = [];
  db!: Connection;
  private clearedAt: number | undefined;
  private sentUpTo = 0;

  constructor(
    readonly fault: string,
    readonly mode: string,
    public deps: Dependencies = SHARED,
  ) {
    this.stream = buildFaultStream(this.id, hashSeed(`${fault}/${mode}`));
  }

  private kafka(): Kafka {
    return new Kafka({
      clientId: `fault-${this.id}`,
      brokers: [this.deps.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
  }

  async setUp(): Promise<void> {
    await this.withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(this.topics).map((topic) => ({
          topic,
          numPartitions: FAULT_PARTITIONS,
        })),
      }),
    );
    await this.connectDb();
  }

  async connectDb(): Promise<void> {
    this.db = await this.connectExtra();
  }

  /** Another connection to the test's MariaDB (the caller ends it). */
  connectExtra(): Promise<Connection> {
    return createConnection({
      host: '127.0.0.1',
      port: this.deps.dbPort,
      user: 'root',
      password: '',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  }

  serviceEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      KAFKA_BROKERS: this.deps.brokers,
      KAFKA_GROUP_ID: this.groupId,
      KAFKA_TOPIC_PRODUCT: this.topics.product,
      KAFKA_TOPIC_CUSTOMER: this.topics.customer,
      KAFKA_TOPIC_ORDER: this.topics.order,
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      // One in-flight transaction per partition: the stream is worked off in time on 2 shared cores.
      KAFKA_PARTITIONS_CONCURRENCY: String(FAULT_PARTITIONS),
      DB_HOST: '127.0.0.1',
      DB_PORT: String(this.deps.dbPort),
      DB_DATABASE: this.database,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(this.deps.redisPort),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SYNC_MODE: this.mode,
      // Backoff capped low so that the time to recover measures the service, not a 30 s wait.
      RETRY_MAX_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '20000',
      ...overrides,
    };
  }

  /** Starts one more instance and waits until it answers /ready. */
  async startService(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const name = `service-${this.services.length + 1}`;
    const service = new ServiceProcess(
      name,
      this.serviceEnv(overrides),
      await freePort(),
      join(this.dir, `${name}.log`),
    );
    this.services.push(service);
    service.start();
    await service.waitReady();
    return service;
  }

  /** Dead-letter topics of this run's source topics that the broker does not have. */
  missingDeadLetterTopics(): Promise<string[]> {
    return this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      return Object.values(this.topics)
        .map((topic) => `${topic}.dlq`)
        .filter((topic) => !existing.has(topic));
    });
  }

  /**
   * The test-only measurement of "applied twice": every committed insert or update of an entity
   * row leaves (entity, id, source_version) in apply_audit; a change written twice shows up as
   * the same triple twice. Installed after the service's migrations, before any event is sent.
   */
  async installAudit(): Promise<void> {
    await this.db.query(`USE \`${this.database}\``);
    await this.db.query(
      `CREATE TABLE apply_audit (
         seq BIGINT AUTO_INCREMENT PRIMARY KEY,
         entity VARCHAR(16) NOT NULL, id BIGINT NOT NULL, source_version BIGINT NOT NULL
       ) ENGINE=InnoDB`,
    );
    for (const [table, entity] of ENTITY_TABLES) {
      for (const when of ['INSERT', 'UPDATE']) {
        await this.db.query(
          `CREATE TRIGGER ${table}_audit_${when.toLowerCase()} AFTER ${when} ON ${table}
           FOR EACH ROW INSERT INTO apply_audit (entity, id, source_version)
           VALUES ('${entity}', NEW.id, NEW.source_version)`,
        );
      }
    }
  }

  /** Starts the first instance, installs the audit, then sends `share` of the stream. */
  async begin(share: number, overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await this.startService(overrides);
    await this.installAudit();
    await this.produce(0, share);
    return service;
  }

  /** Sends the stream's messages from `fromShare` to `toShare` (fractions of it). */
  async produce(fromShare: number, toShare: number): Promise<void> {
    const all = this.stream.messages;
    const from = Math.floor(all.length * fromShare);
    const to = Math.floor(all.length * toShare);
    // Idempotent, so that a send retried across a broker restart cannot write a message twice:
    // a second copy of an invalid message has its own offset and is rightly dead-lettered again,
    // which the figures would count against the service.
    const producer = this.kafka().producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      for (let i = from; i < to; i += 500) {
        const chunk = all.slice(i, Math.min(to, i + 500));
        await producer.sendBatch({
          acks: -1,
          topicMessages: (Object.keys(this.topics) as EntityKind[]).map((kind) => ({
            topic: this.topics[kind],
            messages: chunk
              .filter((m: StreamMessage) => m.kind === kind)
              .map((m) => ({ key: m.key, value: m.value, partition: m.partition })),
          })),
        });
      }
      this.sentUpTo = Math.max(this.sentUpTo, to);
    } finally {
      await producer.disconnect();
    }
  }

  /** Sends whatever of the stream is not sent yet. */
  async produceRest(): Promise<void> {
    await this.produce(this.sentUpTo / this.stream.messages.length, 1);
  }

  async query<T = RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> {
    await this.db.query(`USE \`${this.database}\``);
    const [rows] = await this.db.query(sql, params);
    return rows as T[];
  }

  async processedCount(): Promise<number> {
    const [row] = await this.query<{ n: string }>('SELECT COUNT(*) AS n FROM processed_events');
    return Number(row?.n ?? 0);
  }

  /** Waits until the service has recorded `share` of the distinct valid events. */
  async waitProgress(share: number, timeoutMs = 120_000): Promise<void> {
    const target = Math.floor(this.stream.validEventIds.size * share);
    await waitFor(
      `${target} events in processed_events`,
      async () => (await this.processedCount()) >= target,
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** One admin client for `use`, disconnected afterwards whatever happens. */
  private async withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka().admin();
    try {
      await admin.connect();
      return await use(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /** How many messages the three topics hold: the stream's length, unless a send was doubled. */
  messagesInTopics(): Promise<number> {
    return this.withAdmin(async (admin) => {
      let total = 0;
      for (const topic of Object.values(this.topics)) {
        for (const end of await admin.fetchTopicOffsets(topic)) {
          total += Number(end.high) - Number(end.low);
        }
      }
      return total;
    });
  }

  /** Sum over every partition of the three topics of (end offset − group's committed offset). */
  lag(): Promise<number> {
    return this.withAdmin(async (admin) => {
      let lag = 0;
      for (const topic of Object.values(this.topics)) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
        for (const end of ends) {
          const mine = committed?.partitions.find((p) => p.partition === end.partition);
          const at = mine === undefined || Number(mine.offset) < 0 ? end.low : mine.offset;
          lag += Number(end.high) - Number(at);
        }
      }
      return lag;
    });
  }

  faultCleared(): void {
    this.clearedAt = Date.now();
  }

  /**
   * Waits until the group's lag is 0 with every event recorded, and returns the time since the
   * fault was cleared. `onPoll` may act as an orchestrator (restart an instance that exited).
   */
  async waitCaughtUp(timeoutMs = 180_000, onPoll?: () => Promise<void>): Promise<number> {
    const valid = this.stream.validEventIds.size;
    await waitFor(
      'lag 0 with every event recorded',
      async () => {
        await onPoll?.();
        if ((await this.lag()) !== 0) return false;
        const [errors] = await this.query<{ n: string }>('SELECT COUNT(*) AS n FROM sync_errors');
        return (await this.processedCount()) >= valid && Number(errors?.n) >= this.stream.invalid;
      },
      { timeoutMs, intervalMs: 250 },
    ).catch((err: unknown) => {
      const logs = this.services.map((s) => `--- ${s.name}\n${s.logTail(15)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${logs}`);
    });
    return Date.now() - (this.clearedAt ?? Date.now());
  }

  /** Everything the table of docs/reliability.md shows, measured in the database. */
  async measure(notes: string, recoveryMs: number): Promise<Figures> {
    const outcomes = await this.query<{ outcome: string; n: string }>(
      'SELECT outcome, COUNT(*) AS n FROM processed_events GROUP BY outcome',
    );
    const count = (outcome: string) => Number(outcomes.find((o) => o.outcome === outcome)?.n ?? 0);
    const recorded = new Set(
      (await this.query<{ event_id: string }>('SELECT event_id FROM processed_events')).map(
        (r) => r.event_id,
      ),
    );
    const missing = [...this.stream.validEventIds].filter((id) => !recorded.has(id));
    const [dead] = await this.query<{ n: string }>(
      'SELECT COUNT(DISTINCT topic, kafka_partition, kafka_offset) AS n FROM sync_errors',
    );
    const [twice] = await this.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM apply_audit
         GROUP BY entity, id, source_version HAVING COUNT(*) > 1) AS t`,
    );
    const wrongEntities = await this.diffEndState();
    const figures: Figures = {
      fault: this.fault,
      mode: this.mode,
      produced: this.stream.messages.length,
      inTopics: await this.messagesInTopics(),
      distinctValid: this.stream.validEventIds.size,
      applied: count('applied'),
      stale: count('stale'),
      duplicatesSkipped: this.stream.duplicates,
      deadLettered: Number(dead?.n ?? 0),
      invalidSent: this.stream.invalid,
      lost: missing.length + wrongEntities.length,
      appliedTwice: Number(twice?.n ?? 0),
      recoveryMs,
      notes,
    };
    console.log(
      `[fault ${figures.fault} / ${figures.mode}] produced ${figures.produced}` +
        (figures.inTopics === figures.produced ? '' : ` (${figures.inTopics} in the topics)`) +
        `, distinct valid ` +
        `${figures.distinctValid}, applied ${figures.applied}, stale ${figures.stale}, duplicates ` +
        `skipped ${figures.duplicatesSkipped}, dead-lettered ${figures.deadLettered}/${figures.invalidSent}, ` +
        `LOST ${figures.lost}, APPLIED TWICE ${figures.appliedTwice}, fault cleared → lag 0 in ` +
        `${(recoveryMs / 1000).toFixed(1)} s; ${notes}` +
        (wrongEntities.length > 0
          ? `\n  wrong end state: ${wrongEntities.slice(0, 5).join('; ')}`
          : '') +
        (missing.length > 0 ? `\n  never recorded: ${missing.slice(0, 5).join(', ')}` : ''),
    );
    const resultsFile = process.env.FAULT_RESULTS_FILE;
    if (resultsFile) appendFileSync(resultsFile, `${JSON.stringify(figures)}\n`);
    return figures;
  }

  /** Entities (and order item sets) whose row differs from the reference, or that should not exist. */
  async diffEndState(): Promise<string[]> {
    const wrong: string[] = [];
    for (const [table, order] of COMPARED_TABLES) {
      const expected = this.stream.expected[table];
      // dateStrings and bigNumberStrings: every column reads as a string, a number or null.
      const rows = await this.query<Record<string, string | number | null>>(
        `SELECT * FROM ${table} ORDER BY ${order}`,
      );
      const actual = rows.map((row) => {
        const copy: Row = {};
        for (const [column, value] of Object.entries(row)) {
          if (column !== 'synced_at') copy[column] = value === null ? null : String(value);
        }
        return copy;
      });
      const keyOf = (row: Row) =>
        table === 'cms_order_items' ? `${row.order_id}#${row.line_no}` : `${row.id}`;
      const byKey = new Map(actual.map((row) => [keyOf(row), row]));
      for (const row of expected) {
        const got = byKey.get(keyOf(row));
        if (
          JSON.stringify(got, Object.keys(row).sort()) !==
          JSON.stringify(row, Object.keys(row).sort())
        )
          wrong.push(
            `${table} ${keyOf(row)}: expected ${JSON.stringify(row)}, got ${JSON.stringify(got)}`,
          );
        byKey.delete(keyOf(row));
      }
      for (const [key, row] of byKey)
        wrong.push(`${table} ${key}: unexpected ${JSON.stringify(row)}`);
    }
    return wrong;
  }

  /** Kills every instance still running, drops the database and the topics. */
  async tearDown(deleteTopics = true): Promise<void> {
    for (const service of this.services) await service.kill();
    if (deleteTopics) {
      await this.withAdmin(async (admin) => {
        const existing = new Set(await admin.listTopics());
        const topics = Object.values(this.topics);
        await admin.deleteTopics({
          topics: [...topics, ...topics.map((t) => `${t}.dlq`)].filter((t) => existing.has(t)),
        });
      }).catch(() => {
        // A private broker may be gone already; its data folder goes with the temp folder.
      });
    }
    if (this.db) {
      await this.db.query(`DROP DATABASE IF EXISTS \`${this.database}\``).catch(() => undefined);
      await this.db.end().catch(() => undefined);
    }
  }

  removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}
