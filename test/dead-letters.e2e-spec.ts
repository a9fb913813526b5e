import { Logger as PinoNestLogger } from 'nestjs-pino';
import {
  type Admin,
  ConfigResourceTypes,
  type Consumer,
  type IHeaders,
  Kafka,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { InvalidEventError } from '../src/common/errors/invalid-event.error';
import { DeadLetterProducer } from '../src/kafka/dead-letter.producer';
import { DeadLetterService } from '../src/sync/dead-letter.service';
import type { EntityKind } from '../src/domain/entity-kind';
import type { Env } from '../src/config/app-config';
import { customerEvent, orderEvent, productEvent, type TestEvent } from './support/events';
import { BROKERS, type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const MIB = 1024 * 1024;
/** "Within seconds" on a slow shared machine. */
const APPLIED_WITHIN_MS = 30_000;

interface DeadLetterSeen {
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

const text = (headers: IHeaders | undefined) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));

/** Reads a dead-letter topic from its start in a group of its own, keeping every message. */
class DeadLetterReader {
  readonly seen: DeadLetterSeen[] = [];
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.consumer = kafka.consumer({ groupId: `reader-${topic}`, allowAutoTopicCreation: false });
  }

  async start(): Promise<this> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ partition, message }) => {
        this.seen.push({
          partition,
          key: message.key,
          value: message.value,
          headers: text(message.headers),
        });
        return Promise.resolve();
      },
    });
    return this;
  }

  /** The dead letters of one source offset; waits until at least `count` are there. */
  async of(sourcePartition: number, offsets: readonly string[]): Promise<DeadLetterSeen[]> {
    const wanted = new Set(offsets);
    const matching = () =>
      this.seen.filter(
        (letter) =>
          letter.headers['x-source-partition'] === String(sourcePartition) &&
          wanted.has(letter.headers['x-source-offset'] ?? ''),
      );
    await waitFor(`${offsets.length} dead letter(s) on ${this.topic}`, () =>
      matching().length >= offsets.length ? true : undefined,
    );
    return matching();
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/**
 * Error-level lines (and worse) of the service, whoever logs them (Nest, kafkajs through the
 * service's log creator): an invalid message must never produce one.
 */
function watchLogs() {
  const error = jest.spyOn(PinoNestLogger.prototype, 'error');
  const fatal = jest.spyOn(PinoNestLogger.prototype, 'fatal');
  const warn = jest.spyOn(PinoNestLogger.prototype, 'warn');
  const render = (calls: unknown[][]) => calls.map((call) => JSON.stringify(call[0]));
  return {
    errorLines: () => [...render(error.mock.calls), ...render(fatal.mock.calls)],
    warnLines: () => render(warn.mock.calls),
    restore: () => jest.restoreAllMocks(),
  };
}

/**
 * The dead-letter path against the real broker, MariaDB and Redis: topics that can hold what
 * they must, truncation when one still cannot, keys as bytes, a chunk of 500 dead letters,
 * concurrent partitions and a compressed dead-letter topic. After each case a valid event on the
 * same partition must be applied within seconds: the partition keeps moving.
 */
describe('dead letters (real Kafka, MariaDB, Redis)', () => {
  const kafka = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING });
  let producer: Producer;
  let admin: Admin;
  let logs: ReturnType<typeof watchLogs>;

  beforeAll(async () => {
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterAll(async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  });

  beforeEach(() => {
    logs = watchLogs();
  });

  afterEach(() => {
    const errors = logs.errorLines();
    logs.restore();
    expect(errors).toEqual([]);
  });

  async function send(ctx: TestContext, entity: EntityKind, messages: Message[]) {
    const [metadata] = await producer.send({ topic: ctx.topics[entity], acks: -1, messages });
    return metadata;
  }

  /** Sends messages to one partition and returns their offsets, in order. */
  async function sendTo(
    ctx: TestContext,
    entity: EntityKind,
    partition: number,
    messages: readonly Omit<Message, 'partition'>[],
  ): Promise<string[]> {
    const metadata = await send(
      ctx,
      entity,
      messages.map((message) => ({ ...message, partition })),
    );
    const base = BigInt(metadata?.baseOffset ?? '-1');
    return messages.map((_, i) => String(base + BigInt(i)));
  }

  const valid = (event: TestEvent, key: Buffer | string = String(event.data.id)) => ({
    key,
    value: JSON.stringify(event),
  });

  async function waitApplied(ctx: TestContext, event: TestEvent): Promise<void> {
    await waitFor(
      `event ${event.eventId} applied`,
      async () =>
        (
          await ctx.rows<{ outcome: string }>(
            'SELECT outcome FROM processed_events WHERE event_id = ?',
            [event.eventId],
          )
        )[0]?.outcome === 'applied',
      { timeoutMs: APPLIED_WITHIN_MS },
    );
  }

  const errorRows = (ctx: TestContext, entity: EntityKind, partition: number) =>
    ctx.rows<{ kafka_offset: number; error_type: string; payload: Buffer | null }>(
      'SELECT kafka_offset, error_type, payload FROM sync_errors ' +
        'WHERE topic = ? AND kafka_partition = ? ORDER BY kafka_offset',
      [ctx.topics[entity], partition],
    );

  async function maxMessageBytes(topic: string): Promise<number> {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] },
      ],
    });
    return Number(described.resources[0]?.configEntries[0]?.configValue);
  }

  describe('one service, uncompressed dead letters', () => {
    const ctx = new TestContext();
    let service: RunningService;
    const readers: Partial<Record<EntityKind, DeadLetterReader>> = {};
    const reader = async (entity: EntityKind) =>
      (readers[entity] ??= await new DeadLetterReader(kafka, `${ctx.topics[entity]}.dlq`).start());

    beforeAll(async () => {
      await ctx.setUp(2);
      // Products allow 4 MiB messages; customers' dead-letter topic exists already, too small.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: ctx.topics.product,
            configEntries: [{ name: 'max.message.bytes', value: String(4 * MIB) }],
          },
        ],
      });
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: `${ctx.topics.customer}.dlq`,
            numPartitions: 1,
            configEntries: [{ name: 'max.message.bytes', value: '10000' }],
          },
        ],
      });
      service = await ctx.startService();
    });

    afterAll(async () => {
      for (const each of Object.values(readers)) await each.stop();
      await ctx.tearDown();
    });

    it('creates the dead-letter topic with the source partition count and ≥ its max.message.bytes', async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [`${ctx.topics.product}.dlq`] });
      expect(metadata.topics[0]?.partitions).toHaveLength(2);
      expect(await maxMessageBytes(`${ctx.topics.product}.dlq`)).toBeGreaterThanOrEqual(4 * MIB);
      // Without an override on the source, the broker's default applies to both.
      expect(await maxMessageBytes(`${ctx.topics.order}.dlq`)).toBeGreaterThanOrEqual(
        await maxMessageBytes(ctx.topics.order),
      );
    });

    it('dead-letters a 1 MiB + 1 byte value whole on a 4 MiB topic, then applies the next event', async () => {
      // Sends: a value of 1 MiB + 1 byte (too_large), then a valid product on partition 0.
      const big = Buffer.alloc(MIB + 1, 'x');
      const next = productEvent(1001, 1);
      const [offset] = await sendTo(ctx, 'product', 0, [{ key: 'big', value: big }, valid(next)]);
      await waitApplied(ctx, next);

      const [letter] = await (await reader('product')).of(0, [offset ?? '']);
      expect(letter?.headers).toMatchObject({
        'x-error-type': 'too_large',
        'x-source-topic': ctx.topics.product,
        'x-source-partition': '0',
        'x-source-offset': offset,
      });
      expect(letter?.headers['x-value-truncated']).toBeUndefined();
      expect(letter?.partition).toBe(0);
      expect(letter?.value?.equals(big)).toBe(true);
      const rows = (await errorRows(ctx, 'product', 0)).filter(
        (row) => String(row.kafka_offset) === offset,
      );
      expect(rows.map((row) => [row.error_type, row.payload?.length])).toEqual([
        ['too_large', 64 * 1024],
      ]);
    });

    it('cuts a value the existing dead-letter topic refuses, marks it, and moves on', async () => {
      // Sends: a 20 KB invalid value (invalid_json) to customers, whose dead-letter topic was
      // created beforehand with max.message.bytes 10000, then a valid customer on partition 0.
      const value = Buffer.from(`{${'y'.repeat(20_000)}`);
      const next = customerEvent(2001, 1);
      const [offset] = await sendTo(ctx, 'customer', 0, [{ key: 'cut', value }, valid(next)]);
      await waitApplied(ctx, next);

      const [letter] = await (await reader('customer')).of(0, [offset ?? '']);
      expect(letter?.headers).toMatchObject({
        'x-error-type': 'invalid_json',
        'x-value-truncated': 'true',
        'x-source-offset': offset,
      });
      expect(letter?.key?.toString()).toBe('cut');
      expect(letter?.value?.length).toBeGreaterThan(0);
      expect(letter?.value?.length).toBeLessThan(10_000);
      expect(
        value.subarray(0, letter?.value?.length).equals(letter?.value ?? Buffer.alloc(0)),
      ).toBe(true);
      // sync_errors keeps the payload as received (up to 64 KiB), whatever the topic could hold.
      const rows = (await errorRows(ctx, 'customer', 0)).filter(
        (row) => String(row.kafka_offset) === offset,
      );
      expect(rows.map((row) => row.payload?.equals(value))).toEqual([true]);
    });

    it('carries binary keys byte for byte to the dead-letter topic, and applies a binary-keyed event', async () => {
      // Sends: five invalid values keyed ff00fe41, 00, 80, c328 and feff0000ffd8, then a valid
      // product keyed ff00fe41, all on partition 1.
      const keys = ['ff00fe41', '00', '80', 'c328', 'feff0000ffd8'].map((hex) =>
        Buffer.from(hex, 'hex'),
      );
      const next = productEvent(1002, 1);
      const offsets = await sendTo(ctx, 'product', 1, [
        ...keys.map((key) => ({ key, value: 'not json' })),
        valid(next, Buffer.from('ff00fe41', 'hex')),
      ]);
      await waitApplied(ctx, next);

      const letters = await (await reader('product')).of(1, offsets.slice(0, keys.length));
      const byOffset = new Map(letters.map((l) => [l.headers['x-source-offset'], l]));
      expect(
        offsets.slice(0, keys.length).map((o) => byOffset.get(o)?.key?.toString('hex')),
      ).toEqual(keys.map((key) => key.toString('hex')));
    });

    it('dead-letters 500 invalid messages of one batch exactly once without a rebalance', async () => {
      // Sends: 500 invalid values (schema_violation: JSON objects with nothing but a field the
      // contract does not know) in one producer request to orders' partition 0, then a valid
      // order there.
      const invalid = Array.from({ length: 500 }, (_, i) => ({
        key: `bad-${i}`,
        value: JSON.stringify({ unknown: i }),
      }));
      const next = orderEvent(3999, 1);
      const started = Date.now();
      const offsets = await sendTo(ctx, 'order', 0, [...invalid, valid(next)]);
      await waitApplied(ctx, next);
      const seconds = (Date.now() - started) / 1000;

      const rows = await errorRows(ctx, 'order', 0);
      expect(rows.map((row) => String(row.kafka_offset))).toEqual(offsets.slice(0, 500));
      const letters = await (await reader('order')).of(0, offsets.slice(0, 500));
      expect(letters).toHaveLength(500);
      expect(new Set(letters.map((l) => l.headers['x-source-offset'])).size).toBe(500);
      expect(logs.warnLines().filter((line) => /rebalanc|re-joining/i.test(line))).toEqual([]);
      expect(seconds).toBeLessThan(APPLIED_WITHIN_MS / 1000);
    });

    it('records a chunk once when dead-lettered again after a partial failure', async () => {
      // Sends nothing to Kafka: calls deadLetterAll directly with 5 messages of a partition the
      // consumer never reads (offsets 9000000+), 2 of them dead-lettered before.
      const deadLetters = service.app.get(DeadLetterService);
      const entries = Array.from({ length: 5 }, (_, i) => ({
        message: {
          topic: ctx.topics.product,
          partition: 1,
          offset: String(9_000_000 + i),
          key: Buffer.from([0xff, i]),
          value: Buffer.from(`direct ${i}`),
        },
        error: new InvalidEventError('invalid_json', `direct ${i}`),
      }));
      let heartbeats = 0;
      const heartbeat = () => {
        heartbeats++;
        return Promise.resolve();
      };
      await deadLetters.deadLetterAll('product', entries.slice(0, 2), heartbeat);
      await deadLetters.deadLetterAll('product', entries, heartbeat);

      const offsets = entries.map((entry) => entry.message.offset);
      const rows = (await errorRows(ctx, 'product', 1)).filter((row) =>
        offsets.includes(String(row.kafka_offset)),
      );
      expect(rows).toHaveLength(5);
      const letters = await (await reader('product')).of(1, offsets);
      expect(letters.map((l) => l.headers['x-source-offset']).sort()).toEqual(offsets);
      expect(letters.map((l) => l.key?.toString('hex')).sort()).toEqual(
        entries.map((entry) => entry.message.key.toString('hex')).sort(),
      );
      expect(heartbeats).toBe(4);
    });
  });

  describe('a fresh service with gzip dead letters, six partitions at once', () => {
    const ctx = new TestContext();
    let service: RunningService;
    const env: Env = { KAFKA_DLQ_COMPRESSION: 'gzip', KAFKA_PARTITIONS_CONCURRENCY: '6' };

    beforeAll(async () => {
      await ctx.setUp(6);
      service = await ctx.startService(env);
    });

    afterAll(async () => {
      await ctx.tearDown();
    });

    it('opens one producer when six partitions dead-letter at the same moment, gzip round trip', async () => {
      // Sends: in one producer request, an invalid value (invalid_json, 5 KB of compressible
      // text) to each of the six product partitions, then a valid product to each.
      const values = Array.from({ length: 6 }, (_, p) => Buffer.from(`{${'z'.repeat(5000)}${p}`));
      const events = Array.from({ length: 6 }, (_, p) => productEvent(4000 + p, 1));
      const metadata = await producer.send({
        topic: ctx.topics.product,
        acks: -1,
        messages: [
          ...values.map((value, partition) => ({ key: `p${partition}`, value, partition })),
          ...events.map((event, partition) => ({ ...valid(event), partition })),
        ],
      });
      for (const event of events) await waitApplied(ctx, event);

      expect(service.app.get(DeadLetterProducer).connectionCount).toBe(1);
      const reader = await new DeadLetterReader(kafka, `${ctx.topics.product}.dlq`).start();
      try {
        for (const [partition, value] of values.entries()) {
          const base = metadata.find((m) => m.partition === partition)?.baseOffset ?? '';
          const [letter] = await reader.of(partition, [base]);
          expect(letter?.value?.equals(value)).toBe(true);
          expect(letter?.headers['x-error-type']).toBe('invalid_json');
        }
      } finally {
        await reader.stop();
      }
    });
  });
});
