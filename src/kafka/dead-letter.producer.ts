import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  type Admin,
  CompressionTypes,
  ConfigResourceTypes,
  type IHeaders,
  Kafka,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { TransientError } from '../common/errors/transient.error';
import type { IncomingMessage } from '../domain/sync-event';
import { COMPRESSION_TYPES } from './compression-codecs';
import { kafkaClientConfig } from './kafka-client-config';

export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/** One message for a dead-letter topic, with what went wrong. */
export interface DeadLetter {
  readonly message: IncomingMessage;
  readonly errorType: string;
  readonly errorMessage: string;
}

/** The header values stay small whatever the error text: the operator's text is in sync_errors. */
const MAX_HEADER_CHARS = { 'x-error-type': 64, 'x-error-message': 1000 } as const;
/** Room for the key, the headers and the record batch's framing above the source's largest value. */
const FRAMING_HEADROOM_BYTES = 64 * 1024;
/** Kafka's framing of a record batch (61 bytes) and of each record and header, rounded up. */
const BATCH_OVERHEAD_BYTES = 512;
const RECORD_OVERHEAD_BYTES = 32;
const HEADER_OVERHEAD_BYTES = 8;
/**
 * What the broker answers when a record batch exceeds the topic's `max.message.bytes`
 * (MESSAGE_TOO_LARGE, code 10) or its segment size (RECORD_LIST_TOO_LARGE, code 18); kafkajs
 * raises both as a non-retriable KafkaJSProtocolError with that `type`.
 */
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** What the producer needs to know of a dead-letter topic it made sure of. */
interface DeadLetterTopic {
  readonly partitions: number;
  /** The topic's effective `max.message.bytes`; undefined when the broker did not say. */
  readonly maxMessageBytes: number | undefined;
}

/** A message for the producer and the dead-letter topic it goes to. */
interface DeadLetterRecord {
  readonly topic: string;
  readonly message: Message;
}

/** A dead letter ready to send, cut already if its topic's known limit demanded it. */
interface PlannedRecord {
  readonly letter: DeadLetter;
  readonly topic: DeadLetterTopic;
  readonly record: DeadLetterRecord;
  readonly truncated: boolean;
}

/** An upper bound of a record's size in a record batch, before compression. */
function recordBytes(message: Message): number {
  const length = (value: Message['value'] | IHeaders[string]) =>
    value === null || value === undefined ? 0 : Buffer.byteLength(value as string | Buffer);
  return Object.entries(message.headers ?? {}).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + length(value) + HEADER_OVERHEAD_BYTES,
    RECORD_OVERHEAD_BYTES + length(message.key) + length(message.value),
  );
}

/** Consecutive groups that each fit one record batch of their topics' limits. */
function packed(planned: readonly PlannedRecord[]): PlannedRecord[][] {
  const groups: PlannedRecord[][] = [];
  let current: PlannedRecord[] = [];
  let bytes = BATCH_OVERHEAD_BYTES;
  for (const entry of planned) {
    const size = recordBytes(entry.record.message);
    const limit = entry.topic.maxMessageBytes ?? Number.POSITIVE_INFINITY;
    if (current.length > 0 && bytes + size > limit) {
      groups.push(current);
      current = [];
      bytes = BATCH_OVERHEAD_BYTES;
    }
    current.push(entry);
    bytes += size;
  }
  groups.push(current);
  return groups;
}

function isTooLarge(err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as Error).cause) {
    if (TOO_LARGE_TYPES.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}

function capped(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/** Publishes invalid messages to `<topic>.dlq`, creating that topic if the broker lacks it. */
@Injectable()
export class DeadLetterProducer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadLetterProducer.name);
  private readonly kafka: Kafka;
  private readonly compression: CompressionTypes;
  /** Shared by every partition that dead-letters at once: one connect, one producer. */
  private producer: Promise<Producer> | undefined;
  private readonly topics = new Map<string, Promise<DeadLetterTopic>>();
  private readonly sourceTopics: readonly string[];
  private connections = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.kafka = new Kafka(kafkaClientConfig(config.kafka));
    this.sourceTopics = Object.values(config.kafka.topics);
    this.compression = COMPRESSION_TYPES[config.kafka.dlqCompression];
  }

  /**
   * Creates missing dead-letter topics at start (logged), so that the first invalid event does
   * not wait on a topic creation. A missing source topic is left to the consumer's start check,
   * which names it. A broker that cannot answer yet (metadata of a topic created a moment ago)
   * does not stop the start: `publishAll` creates the topic on first use.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const admin = this.kafka.admin();
      await admin.connect();
      let existing: Set<string>;
      try {
        existing = new Set(await admin.listTopics());
      } finally {
        await admin.disconnect();
      }
      for (const topic of this.sourceTopics) {
        if (existing.has(topic)) await this.ensureTopic(topic);
      }
    } catch (err) {
      this.logger.warn(
        `could not check dead-letter topics at start (${(err as Error).message}); ` +
          'each is created when first needed',
      );
    }
  }

  /**
   * Publishes the dead letters in one send (more only when together they exceed the topic's
   * `max.message.bytes`); each lands on the dead-letter partition of its source partition. A
   * value too large for the dead-letter topic is cut to fit and marked `x-value-truncated: true`,
   * so such a message never stalls its partition. Returns, in order, whether each value was cut.
   * Every other failure is transient.
   */
  async publishAll(letters: readonly DeadLetter[]): Promise<boolean[]> {
    if (letters.length === 0) return [];
    try {
      const topics = new Map<string, DeadLetterTopic>();
      for (const topic of new Set(letters.map((letter) => letter.message.topic))) {
        topics.set(topic, await this.ensureTopic(topic));
      }
      const producer = await this.connected();
      const planned = letters.map((letter) =>
        this.fitted(letter, topics.get(letter.message.topic) as DeadLetterTopic),
      );
      const truncated: boolean[] = [];
      for (const group of packed(planned)) {
        truncated.push(...(await this.sendRefusedCut(producer, group)));
      }
      planned.forEach(({ letter }, i) => {
        if (truncated[i] === true) {
          this.logger.warn(
            `dead letter of ${letter.message.topic}/${letter.message.partition}@` +
              `${letter.message.offset} is too large for its dead-letter topic: value cut`,
          );
        }
      });
      return truncated;
    } catch (err) {
      throw new TransientError('kafka', `dead-letter publish failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The letter as it fits the topic's limit as far as it is known: cut only when it must be. */
  private fitted(letter: DeadLetter, topic: DeadLetterTopic): PlannedRecord {
    const whole = this.record(letter, topic, undefined);
    const limit = topic.maxMessageBytes;
    if (limit === undefined || recordBytes(whole.message) + BATCH_OVERHEAD_BYTES <= limit) {
      return { letter, topic, record: whole, truncated: false };
    }
    const headerBytes = recordBytes({ ...whole.message, value: null });
    const room = Math.max(0, limit - headerBytes - BATCH_OVERHEAD_BYTES);
    return { letter, topic, record: this.record(letter, topic, room), truncated: true };
  }

  /**
   * Should the broker still refuse a record batch as too large (its limit unknown or smaller
   * than estimated), halving finds the letters refused on their own in a few sends; those go
   * with the value left out.
   */
  private async sendRefusedCut(
    producer: Producer,
    group: readonly PlannedRecord[],
  ): Promise<boolean[]> {
    try {
      await this.send(
        producer,
        group.map((planned) => planned.record),
      );
      return group.map((planned) => planned.truncated);
    } catch (err) {
      if (!isTooLarge(err)) throw err;
    }
    if (group.length > 1) {
      const half = Math.ceil(group.length / 2);
      return [
        ...(await this.sendRefusedCut(producer, group.slice(0, half))),
        ...(await this.sendRefusedCut(producer, group.slice(half))),
      ];
    }
    const [{ letter, topic }] = group as [PlannedRecord];
    await this.send(producer, [this.record(letter, topic, 0)]);
    return [true];
  }

  private async send(producer: Producer, records: readonly DeadLetterRecord[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of records) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    }
    await producer.sendBatch({
      acks: -1,
      compression: this.compression,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  /** `valueBytes` cuts the value to that many bytes; undefined keeps it whole. */
  private record(
    letter: DeadLetter,
    topic: DeadLetterTopic,
    valueBytes: number | undefined,
  ): DeadLetterRecord {
    const { message } = letter;
    const headers: IHeaders = {
      'x-error-type': capped(letter.errorType, MAX_HEADER_CHARS['x-error-type']),
      'x-error-message': capped(letter.errorMessage, MAX_HEADER_CHARS['x-error-message']),
      'x-source-topic': message.topic,
      'x-source-partition': String(message.partition),
      'x-source-offset': message.offset,
    };
    const cut = valueBytes !== undefined && message.value !== null;
    if (cut) headers['x-value-truncated'] = 'true';
    return {
      topic: deadLetterTopic(message.topic),
      message: {
        key: message.key,
        value: cut ? message.value.subarray(0, valueBytes) : message.value,
        headers,
        // The dead letters of a source partition stay in order on the same dead-letter partition.
        ...(message.partition < topic.partitions ? { partition: message.partition } : {}),
      },
    };
  }

  /**
   * Many brokers disable auto-creation: the dead-letter topic gets as many partitions as its
   * source and room for the source's largest message. Concurrent callers share one check.
   */
  ensureTopic(sourceTopic: string): Promise<DeadLetterTopic> {
    let ready = this.topics.get(sourceTopic);
    if (ready === undefined) {
      ready = this.createTopic(sourceTopic).catch((err: unknown) => {
        this.topics.delete(sourceTopic);
        throw err;
      });
      this.topics.set(sourceTopic, ready);
    }
    return ready;
  }

  private async createTopic(sourceTopic: string): Promise<DeadLetterTopic> {
    const topic = deadLetterTopic(sourceTopic);
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      if (!existing.has(topic)) {
        const source = existing.has(sourceTopic)
          ? await this.describe(admin, sourceTopic)
          : { partitions: 1, maxMessageBytes: undefined };
        const maxMessageBytes =
          source.maxMessageBytes === undefined
            ? undefined
            : source.maxMessageBytes + FRAMING_HEADROOM_BYTES;
        await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: source.partitions,
              configEntries:
                maxMessageBytes === undefined
                  ? []
                  : [{ name: 'max.message.bytes', value: String(maxMessageBytes) }],
            },
          ],
        });
        this.logger.log(
          `created dead-letter topic ${topic} with ${source.partitions} partition(s)` +
            (maxMessageBytes === undefined ? '' : ` and max.message.bytes ${maxMessageBytes}`),
        );
      }
      return await this.describe(admin, topic);
    } finally {
      await admin.disconnect();
    }
  }

  /** Partition count and effective `max.message.bytes` (the broker's default without override). */
  private async describe(admin: Admin, topic: string): Promise<DeadLetterTopic> {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] },
      ],
    });
    const value = configs.resources[0]?.configEntries.find(
      (entry) => entry.configName === 'max.message.bytes',
    )?.configValue;
    const bytes = Number(value);
    return {
      partitions: metadata.topics[0]?.partitions.length ?? 1,
      maxMessageBytes: Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined,
    };
  }

  /** Producers this instance connected so far: one, however many partitions dead-letter at once. */
  get connectionCount(): number {
    return this.connections;
  }

  private connected(): Promise<Producer> {
    this.producer ??= this.connect().catch((err: unknown) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }

  private async connect(): Promise<Producer> {
    const producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.connections++;
    await producer.connect();
    return producer;
  }

  async onApplicationShutdown(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await (await producer?.catch(() => undefined))?.disconnect();
  }
}
