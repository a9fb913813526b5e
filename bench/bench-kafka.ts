import {
  type Admin,
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { type BenchEvent, envelope, eventId, type Kind, KINDS } from './stream';

/** Messages per produce request when pre-producing: large batches, as a bulk loader would. */
const PRODUCE_BATCH = 5000;

/** One event as a message of a mode: its id (for produce-to-commit times), key and JSON. */
export interface BenchMessage {
  readonly eventId: string;
  readonly kind: Kind;
  readonly key: string;
  readonly value: string;
}

/** One mode's topics and consumer group on the shared broker, and the producer that feeds them. */
export class BenchKafka {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;

  constructor(
    brokers: string,
    readonly topics: Readonly<Record<Kind, string>>,
    readonly groupId: string,
    private readonly modeSalt: string,
  ) {
    this.kafka = new Kafka({
      clientId: 'cms-sync-bench',
      brokers: [brokers],
      logLevel: logLevel.ERROR,
    });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  }

  async createTopics(partitions: number): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(this.topics).map((topic) => ({ topic, numPartitions: partitions })),
    });
  }

  /**
   * The messages of `events` for this mode. `envelope` is deterministic, so a duplicate is byte
   * for byte its original.
   */
  messages(events: readonly BenchEvent[]): BenchMessage[] {
    return events.map((event) => ({
      eventId: eventId(this.modeSalt, event.seq),
      kind: event.kind,
      key: String(event.id),
      value: envelope(event, this.modeSalt),
    }));
  }

  async produce(events: readonly BenchEvent[]): Promise<void> {
    await this.send(this.messages(events));
  }

  /**
   * Sends messages in order, keyed by entity id, acks from all replicas, no compression. With
   * `sentAt`, records when each event id was handed to the producer: the start of its
   * produce-to-commit time.
   */
  async send(messages: readonly BenchMessage[], sentAt?: Map<string, number>): Promise<void> {
    for (let start = 0; start < messages.length; start += PRODUCE_BATCH) {
      const slice = messages.slice(start, start + PRODUCE_BATCH);
      const byTopic = new Map<Kind, { key: string; value: string }[]>(KINDS.map((k) => [k, []]));
      for (const { kind, key, value } of slice) byTopic.get(kind)?.push({ key, value });
      const now = Date.now();
      if (sentAt) for (const message of slice) sentAt.set(message.eventId, now);
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic]
          .filter(([, messages]) => messages.length > 0)
          .map(([kind, messages]) => ({ topic: this.topics[kind], messages })),
      });
    }
  }

  /** Messages in the topics that the group has not committed yet. */
  async lag(): Promise<number> {
    const committed = await this.admin.fetchOffsets({
      groupId: this.groupId,
      topics: Object.values(this.topics),
    });
    let lag = 0;
    for (const { topic, partitions } of committed) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const offset = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        lag += Number(end.high) - (offset < 0 ? Number(end.low) : offset);
      }
    }
    return lag;
  }

  async close(deleteTopics: boolean): Promise<void> {
    await this.producer.disconnect();
    if (deleteTopics) {
      const existing = new Set(await this.admin.listTopics());
      const mine = Object.values(this.topics).flatMap((t) => [t, `${t}.dlq`]);
      await this.admin.deleteTopics({ topics: mine.filter((t) => existing.has(t)) });
      await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    }
    await this.admin.disconnect();
  }
}
