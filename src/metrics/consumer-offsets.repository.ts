import type { Admin } from 'kafkajs';
import { computeLag } from './consumer-lag';

export interface TopicPartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/**
 * Reads a consumer group's lag from the broker: high and low watermarks of each topic against
 * the group's committed offsets. It only reads; it never joins the group or commits. The admin
 * client is the caller's, connected, so that a periodic reader keeps one connection open.
 */
export class ConsumerOffsetsRepository {
  constructor(private readonly admin: Admin) {}

  /** Lag of `groupId` on every partition of `topics`, in the order of `topics`. */
  async lag(groupId: string, topics: readonly string[]): Promise<TopicPartitionLag[]> {
    const [watermarks, committed] = await Promise.all([
      Promise.all(topics.map((topic) => this.admin.fetchTopicOffsets(topic))),
      this.admin.fetchOffsets({ groupId, topics: [...topics] }),
    ]);
    return topics.flatMap((topic, index) =>
      computeLag(
        watermarks[index] ?? [],
        committed.find((c) => c.topic === topic)?.partitions ?? [],
      ).map(({ partition, lag }) => ({ topic, partition, lag })),
    );
  }
}
