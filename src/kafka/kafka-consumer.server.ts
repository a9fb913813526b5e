import { Logger } from '@nestjs/common';
import { type ConsumerDeserializer, type IncomingEvent, ServerKafka } from '@nestjs/microservices';
import { KafkaParser } from '@nestjs/microservices/helpers/kafka-parser';
import { type Consumer, type EachBatchPayload, Partitioners } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import type { ConsumerStatus } from '../health/consumer-status';
import { ENTITY_KINDS } from '../domain/entity-kind';
import type { IncomingMessage } from '../domain/sync-event';
import { KafkaBatchContext } from './kafka-batch.context';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION } from './fetch-sizes';
import { kafkaClientConfig } from './kafka-client-config';
import { BATCH_PATTERNS, TOPIC_PATTERNS } from './topic-patterns';

/**
 * Nest's parser decodes every key as UTF-8 (or JSON) even with `keepBinary`; keys need not be
 * text, so this one hands the key over as the bytes kafkajs read.
 */
class BinaryKeyKafkaParser extends KafkaParser {
  override parse<T>(data: { key?: Buffer | null }): T {
    return { ...super.parse<object>(data), key: data.key ?? null } as T;
  }
}

/** Maps a message's real topic back to the pattern its controller is registered under. */
class TopicPatternDeserializer implements ConsumerDeserializer {
  constructor(private readonly patternByTopic: ReadonlyMap<string, string>) {}

  deserialize(value: { value?: unknown }, options?: { channel?: string }): IncomingEvent {
    const channel = options?.channel ?? '';
    return { pattern: this.patternByTopic.get(channel) ?? channel, data: value.value };
  }
}

/** Patterns are topic names (see TopicPatternDeserializer): a handful, unless topics are misrouted. */
const MAX_CACHED_ROUTES = 64;

/**
 * NestJS' Kafka transport with the contract's settings: the exact consumer group (no "-server"
 * suffix), the configured topics, earliest offset for a new group, raw message bytes for safe
 * parsing, and offsets committed only for messages whose handler resolved.
 *
 * With SYNC_MODE=batch it runs kafkajs' `eachBatch` instead (Nest's transport only knows
 * `eachMessage`) and hands each fetched partition batch to the controller's batch handler, which
 * resolves offsets itself as it completes parts of the batch.
 */
export class KafkaConsumerServer extends ServerKafka {
  private readonly crashLogger = new Logger(KafkaConsumerServer.name);
  private readonly topicByPattern: ReadonlyMap<string, string>;
  private readonly batchPatternByTopic: ReadonlyMap<string, string>;
  private readonly batchMode: boolean;
  private readonly routes = new Map<string, string>();

  constructor(
    config: AppConfig,
    private readonly onFatalCrash: (error: Error) => void,
    private readonly consumerStatus: ConsumerStatus,
  ) {
    const topicByPattern = new Map<string, string>(
      ENTITY_KINDS.map((kind) => [TOPIC_PATTERNS[kind], config.kafka.topics[kind]]),
    );
    super({
      client: kafkaClientConfig(config.kafka),
      consumer: {
        groupId: config.kafka.groupId,
        sessionTimeout: config.kafka.sessionTimeoutMs,
        heartbeatInterval: Math.floor(config.kafka.sessionTimeoutMs / 10),
        allowAutoTopicCreation: false,
        maxBytes: FETCH_MAX_BYTES,
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      },
      run: { partitionsConsumedConcurrently: config.kafka.partitionsConcurrency, autoCommit: true },
      // Nest creates a producer for request-reply; the explicit partitioner silences kafkajs' warning.
      producer: { createPartitioner: Partitioners.DefaultPartitioner },
      subscribe: { fromBeginning: true },
      parser: { keepBinary: true },
      postfixId: '',
      deserializer: new TopicPatternDeserializer(
        new Map([...topicByPattern].map(([pattern, topic]) => [topic, pattern])),
      ),
    });
    this.topicByPattern = new Map([
      ...topicByPattern,
      ...ENTITY_KINDS.map((kind) => [BATCH_PATTERNS[kind], config.kafka.topics[kind]] as const),
    ]);
    this.batchPatternByTopic = new Map(
      ENTITY_KINDS.map((kind) => [config.kafka.topics[kind], BATCH_PATTERNS[kind]]),
    );
    this.batchMode = config.sync.mode === 'batch';
    this.parser = new BinaryKeyKafkaParser({ keepBinary: true });
  }

  /**
   * Nest tries `JSON.parse` on a message's pattern before using it as it is; ours are plain
   * topic names, so every message paid for a thrown SyntaxError (about 28 µs, a tenth of event
   * mode's CPU). The routes of the few patterns the deserializer yields are kept instead.
   */
  override getRouteFromPattern(pattern: string): string {
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = super.getRouteFromPattern(pattern);
      if (this.routes.size < MAX_CACHED_ROUTES) this.routes.set(pattern, route);
    }
    return route;
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const topics = [
      ...new Set([...this.messageHandlers.keys()].map((p) => this.topicByPattern.get(p) ?? p)),
    ];
    // Readiness follows the consumer's own events; see ConsumerStatus for what counts as ready.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
      this.consumerStatus.joined(payload.memberId),
    );
    consumer.on(consumer.events.REBALANCING, () => this.consumerStatus.rebalancing());
    consumer.on(consumer.events.FETCH, () => this.consumerStatus.fetched());
    consumer.on(consumer.events.STOP, () => this.consumerStatus.stopped());
    consumer.on(consumer.events.DISCONNECT, () => this.consumerStatus.stopped());
    // kafkajs restarts the consumer itself after retriable crashes; one it gives up on would
    // leave the process up but idle, so that one ends the service and the orchestrator restarts it.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.consumerStatus.crashed(payload.error, payload.restart);
      if (!payload.restart) {
        this.crashLogger.error(`consumer crashed for good: ${payload.error.message}`);
        this.onFatalCrash(payload.error);
      }
    });
    await this.requireTopics(topics);
    await consumer.subscribe({ topics, fromBeginning: true });
    if (this.batchMode) {
      await consumer.run({
        ...this.options.run,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.handleBatch(payload),
      });
    } else {
      await consumer.run({ ...this.options.run, eachMessage: this.getMessageHandler() });
    }
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const pattern = this.batchPatternByTopic.get(batch.topic) ?? batch.topic;
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      // Without a handler the offsets stay unresolved: nothing is skipped silently.
      this.crashLogger.error(`no batch handler for ${batch.topic}`);
      return;
    }
    const messages: IncomingMessage[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
    }));
    const context = new KafkaBatchContext([
      messages,
      {
        heartbeat: () => payload.heartbeat(),
        resolveOffset: (offset) => payload.resolveOffset(offset),
        shouldContinue: () => payload.isRunning() && !payload.isStale(),
      },
    ]);
    const result: unknown = await handler(messages, context);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  /** Source topics are the producers' to create, with their partition count; say which are missing. */
  private async requireTopics(topics: readonly string[]): Promise<void> {
    const admin = this.client?.admin();
    if (admin === undefined) return;
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        throw new Error(`topics missing on the broker: ${missing.join(', ')}; create them first`);
      }
    } finally {
      await admin.disconnect();
    }
  }
}
