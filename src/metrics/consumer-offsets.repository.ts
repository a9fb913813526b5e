import { type Admin, AssignerProtocol } from 'kafkajs';
import { computeLag } from './consumer-lag';

export interface TopicPartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** A partition's lag with the two offsets it comes from. */
export interface TopicPartitionOffsets extends TopicPartitionLag {
  /** The group's committed offset; null: the group has committed nothing there yet. */
  readonly committed: string | null;
  /** The high watermark: offset of the next message to be written. */
  readonly high: string;
}

export interface ConsumerGroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  /** Partitions assigned to the member, per topic; empty while the group rebalances. */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
}

export interface ConsumerGroupDescription {
  /** The broker's group state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  readonly state: string;
  readonly members: readonly ConsumerGroupMember[];
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
    const offsets = await this.offsets(groupId, topics);
    return offsets.map(({ topic, partition, lag }) => ({ topic, partition, lag }));
  }

  /** Like `lag`, with the committed offset and high watermark of each partition. */
  async offsets(groupId: string, topics: readonly string[]): Promise<TopicPartitionOffsets[]> {
    const [watermarks, committed] = await Promise.all([
      Promise.all(topics.map((topic) => this.admin.fetchTopicOffsets(topic))),
      this.admin.fetchOffsets({ groupId, topics: [...topics] }),
    ]);
    return topics.flatMap((topic, index) => {
      const ends = watermarks[index] ?? [];
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      return computeLag(ends, done).map(({ partition, lag }) => {
        const offset = done.find((c) => c.partition === partition)?.offset;
        return {
          topic,
          partition,
          lag,
          committed: offset === undefined || offset.startsWith('-') ? null : offset,
          high: ends.find((w) => w.partition === partition)?.high ?? '0',
        };
      });
    });
  }

  /** The group's members as the broker's group coordinator describes them. */
  async describeGroup(groupId: string): Promise<ConsumerGroupDescription> {
    const { groups } = await this.admin.describeGroups([groupId]);
    const group = groups.find((g) => g.groupId === groupId);
    return {
      state: group?.state ?? 'Unknown',
      members: (group?.members ?? []).map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        assignment: decodeAssignment(member.memberAssignment),
      })),
    };
  }
}

/** A member's assignment; the broker sends an empty one while the group rebalances. */
function decodeAssignment(raw: Buffer): Record<string, number[]> {
  if (raw.length === 0) return {};
  return AssignerProtocol.MemberAssignment.decode(raw)?.assignment ?? {};
}
