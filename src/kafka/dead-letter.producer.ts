import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Admin, Kafka, Partitioners, type Producer } from 'kafkajs';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { TransientError } from '../common/errors/transient.error';
import type { IncomingMessage } from '../domain/sync-event';
import { kafkaClientConfig } from './kafka-client-config';

export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/** Publishes invalid messages to `<topic>.dlq`, creating that topic if the broker lacks it. */
@Injectable()
export class DeadLetterProducer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadLetterProducer.name);
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private readonly readyTopics = new Set<string>();
  private readonly sourceTopics: readonly string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.kafka = new Kafka(kafkaClientConfig(config.kafka));
    this.sourceTopics = Object.values(config.kafka.topics);
  }

  /**
   * Creates missing dead-letter topics at start (logged), so that the first invalid event does
   * not wait on a topic creation. A missing source topic is left to the consumer's start check,
   * which names it. A broker that cannot answer yet (metadata of a topic created a moment ago)
   * does not stop the start: `publish` creates the topic on first use.
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

  async publish(message: IncomingMessage, errorType: string, errorMessage: string): Promise<void> {
    try {
      const topic = deadLetterTopic(message.topic);
      await this.ensureTopic(message.topic);
      await (
        await this.connected()
      ).send({
        topic,
        acks: -1,
        messages: [
          {
            key: message.key,
            value: message.value,
            headers: {
              'x-error-type': errorType,
              'x-error-message': errorMessage,
              'x-source-topic': message.topic,
              'x-source-partition': String(message.partition),
              'x-source-offset': message.offset,
            },
          },
        ],
      });
    } catch (err) {
      throw new TransientError('kafka', `dead-letter publish failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Many brokers disable auto-creation: give the DLQ as many partitions as its source. */
  async ensureTopic(sourceTopic: string): Promise<void> {
    const topic = deadLetterTopic(sourceTopic);
    if (this.readyTopics.has(topic)) return;
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      if (!existing.has(topic)) {
        const partitions = existing.has(sourceTopic)
          ? (await admin.fetchTopicMetadata({ topics: [sourceTopic] })).topics[0]?.partitions.length
          : undefined;
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: partitions ?? 1 }],
        });
        this.logger.log(`created dead-letter topic ${topic} with ${partitions ?? 1} partition(s)`);
      }
      this.readyTopics.add(topic);
    } finally {
      await admin.disconnect();
    }
  }

  private async connected(): Promise<Producer> {
    if (this.producer === undefined) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}
