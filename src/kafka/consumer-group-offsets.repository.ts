import type { Admin } from 'kafkajs';

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly low: bigint;
  readonly high: bigint;
  /** null: the group has no committed offset for the partition. */
  readonly committed: bigint | null;
}

/**
 * The broker side of `npm run rewind`: a consumer group's members and committed offsets, a
 * topic's watermarks and offsets by time, and moving the committed offsets. The admin client is
 * the caller's, connected.
 */
export class ConsumerGroupOffsetsRepository {
  constructor(private readonly admin: Admin) {}

  /** The group's members; offsets can only be moved while there are none. */
  async members(groupId: string): Promise<GroupMember[]> {
    const { groups } = await this.admin.describeGroups([groupId]);
    return (groups.find((group) => group.groupId === groupId)?.members ?? []).map(
      ({ memberId, clientId, clientHost }) => ({ memberId, clientId, clientHost }),
    );
  }

  async partitions(groupId: string, topic: string): Promise<PartitionOffsets[]> {
    const [watermarks, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const byPartition = new Map(
      (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
        p.partition,
        p.offset,
      ]),
    );
    return watermarks
      .map(({ partition, low, high }) => {
        const offset = byPartition.get(partition);
        return {
          partition,
          low: BigInt(low),
          high: BigInt(high),
          // The broker answers -1 for a partition the group never committed.
          committed: offset === undefined || BigInt(offset) < 0n ? null : BigInt(offset),
        };
      })
      .sort((a, b) => a.partition - b.partition);
  }

  /** Per partition, the first offset whose message is at or after `time`; the high watermark if none. */
  async offsetsAt(topic: string, time: Date): Promise<Map<number, bigint>> {
    const offsets = await this.admin.fetchTopicOffsetsByTimestamp(topic, time.getTime());
    return new Map(offsets.map(({ partition, offset }) => [partition, BigInt(offset)]));
  }

  /** Commits the given offsets for the group; the broker refuses while the group has members. */
  async moveTo(
    groupId: string,
    topic: string,
    offsets: readonly { partition: number; offset: bigint }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    await this.admin.setOffsets({
      groupId,
      topic,
      partitions: offsets.map(({ partition, offset }) => ({ partition, offset: String(offset) })),
    });
  }
}
