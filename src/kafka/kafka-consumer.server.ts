import { Logger } from '@nestjs/common';
import { type MessageHandler, ServerKafka } from '@nestjs/microservices';
import { type Consumer, type EachBatchPayload, Partitioners } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import type { ConsumerStatus } from '../health/consumer-status';
import { ENTITY_KINDS } from '../domain/entity-kind';
import type { IncomingMessage } from '../domain/sync-event';
import { KafkaBatchContext } from './kafka-batch.context';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION } from './fetch-sizes';
import { kafkaClientConfig } from './kafka-client-config';
import { OffsetCommitScheduler } from './offset-commit-scheduler';
import { TOPIC_PATTERNS } from './topic-patterns';

/**
 * NestJS' Kafka transport with the contract's settings: the exact consumer group (no "-server"
 * suffix), the configured topics, earliest offset for a new group, raw message bytes for safe
 * parsing, and offsets committed only for messages whose handler resolved.
 *
 * It runs kafkajs' `eachBatch` in both modes (Nest's transport only knows `eachMessage`) and
 * hands each fetched partition batch to its controller's handler, which resolves offsets itself
 * as it completes parts of the batch: one event at a time in event mode, chunks in batch mode.
 * So a fetch costs one Redis lookup, never one per event, and no message passes through Nest's
 * per-message pipeline. Resolved offsets are committed by kafkajs after every batch or, with
 * KAFKA_COMMIT_INTERVAL_MS above 0, by an OffsetCommitScheduler once per interval.
 */
export class KafkaConsumerServer extends ServerKafka {
  private readonly crashLogger = new Logger(KafkaConsumerServer.name);
  private readonly topicByPattern: ReadonlyMap<string, string>;
  /** Each topic's handler, looked up once: Nest's lookup tries JSON.parse on the pattern first. */
  private readonly handlerByTopic = new Map<string, MessageHandler>();
  /** Absent while kafkajs commits after every batch (KAFKA_COMMIT_INTERVAL_MS=0). */
  private readonly offsetCommits: OffsetCommitScheduler | undefined;

  constructor(
    config: AppConfig,
    private readonly onFatalCrash: (error: Error) => void,
    private readonly consumerStatus: ConsumerStatus,
  ) {
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
      run: {
        partitionsConsumedConcurrently: config.kafka.partitionsConcurrency,
        autoCommit: config.kafka.commitIntervalMs === 0,
      },
      // Nest creates a producer for request-reply; the explicit partitioner silences kafkajs' warning.
      producer: { createPartitioner: Partitioners.DefaultPartitioner },
      subscribe: { fromBeginning: true },
      postfixId: '',
    });
    this.offsetCommits =
      config.kafka.commitIntervalMs > 0
        ? new OffsetCommitScheduler(config.kafka.commitIntervalMs)
        : undefined;
    this.topicByPattern = new Map(
      ENTITY_KINDS.map((kind) => [TOPIC_PATTERNS[kind], config.kafka.topics[kind]]),
    );
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    for (const [pattern, handler] of this.messageHandlers) {
      this.handlerByTopic.set(this.topicByPattern.get(pattern) ?? pattern, handler);
    }
    const topics = [...this.handlerByTopic.keys()];
    // Readiness follows the consumer's own events; see ConsumerStatus for what counts as ready.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
      this.consumerStatus.joined(payload.memberId),
    );
    consumer.on(consumer.events.REBALANCING, () => {
      this.consumerStatus.rebalancing();
      // Emitted before kafkajs rejoins; the group still takes commits of this generation.
      void this.offsetCommits?.commitNow();
    });
    consumer.on(consumer.events.FETCH, () => this.consumerStatus.fetched());
    consumer.on(consumer.events.END_BATCH_PROCESS, () => this.offsetCommits?.batchEnded());
    consumer.on(consumer.events.STOP, () => {
      this.offsetCommits?.detach();
      this.consumerStatus.stopped();
    });
    consumer.on(consumer.events.DISCONNECT, () => this.consumerStatus.stopped());
    // kafkajs restarts the consumer itself after retriable crashes; one it gives up on would
    // leave the process up but idle, so that one ends the service and the orchestrator restarts it.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.offsetCommits?.detach();
      this.consumerStatus.crashed(payload.error, payload.restart);
      if (!payload.restart) {
        this.crashLogger.error(`consumer crashed for good: ${payload.error.message}`);
        this.onFatalCrash(payload.error);
      }
    });
    await this.requireTopics(topics);
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      ...this.options.run,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const handler = this.handlerByTopic.get(batch.topic);
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
    this.offsetCommits?.attach(payload);
    try {
      const result: unknown = await handler(messages, context);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    } catch (err) {
      // Keep what the failed batch finished, as kafkajs' autoCommit does, but without waiting:
      // when the broker connection is what failed, the commit would hold up the reconnect.
      void this.offsetCommits?.commitNow();
      throw err;
    }
    // The consumer is stopping: kafkajs leaves the group once this batch returns.
    if (!payload.isRunning()) await this.offsetCommits?.commitNow();
  }

  /** Commits what is resolved while this member is still in the group, then disconnects. */
  override async close(): Promise<void> {
    await this.offsetCommits?.commitNow();
    await super.close();
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
