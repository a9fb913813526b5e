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

/** When the events of a latency run were handed to the producer and appended by the broker. */
export interface ProduceTimes {
  readonly sentAt: Map<string, number>;
  readonly appendedAt: Map<string, number>;
  /** The widest gap between the append times of one topic's partitions in one request. */
  appendSpreadMs: number;
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
    // The broker stamps each batch as it appends it, and says when in its produce response: the
    // latency run splits each event's time there (see `send`).
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(this.topics).map((topic) => ({
        topic,
        numPartitions: partitions,
        configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
      })),
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
   * `times`, records for each event id when it was handed to the producer (the start of its
   * produce-to-commit time) and when the broker appended it. The produce response gives the
   * append time per partition, not per message: an event gets the latest of its topic's
   * partitions in the request, which differ by `appendSpreadMs` at most.
   */
  async send(messages: readonly BenchMessage[], times?: ProduceTimes): Promise<void> {
    for (let start = 0; start < messages.length; start += PRODUCE_BATCH) {
      const slice = messages.slice(start, start + PRODUCE_BATCH);
      const byTopic = new Map<Kind, { key: string; value: string }[]>(KINDS.map((k) => [k, []]));
      for (const { kind, key, value } of slice) byTopic.get(kind)?.push({ key, value });
      const now = Date.now();
      const sent = await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic]
          .filter(([, messages]) => messages.length > 0)
          .map(([kind, messages]) => ({ topic: this.topics[kind], messages })),
      });
      if (times === undefined) continue;
      const appended = new Map<string, { first: number; last: number }>();
      for (const { topicName, logAppendTime } of sent) {
        const at = Number(logAppendTime);
        const range = appended.get(topicName) ?? { first: at, last: at };
        appended.set(topicName, {
          first: Math.min(range.first, at),
          last: Math.max(range.last, at),
        });
      }
      for (const { last, first } of appended.values()) {
        times.appendSpreadMs = Math.max(times.appendSpreadMs, last - first);
      }
      for (const message of slice) {
        times.sentAt.set(message.eventId, now);
        const at = appended.get(this.topics[message.kind])?.last;
        if (at !== undefined && at > 0) times.appendedAt.set(message.eventId, at);
      }
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
