/** A partition's ends on the broker, as kafkajs' `admin.fetchTopicOffsets` gives them. */
export interface PartitionWatermarks {
  readonly partition: number;
  /** Offset of the next message to be written. */
  readonly high: string;
  /** Offset of the oldest message still kept. */
  readonly low: string;
}

/** A group's committed offset on a partition, as `admin.fetchOffsets` gives it; "-1": none. */
export interface CommittedOffset {
  readonly partition: number;
  readonly offset: string;
}

export interface PartitionLag {
  readonly partition: number;
  /** Messages written to the partition that the group has not committed yet. */
  readonly lag: number;
}

const toBigInt = (offset: string): bigint | undefined => {
  try {
    return BigInt(offset);
  } catch {
    return undefined;
  }
};

/**
 * Lag per partition: the high watermark minus the group's committed offset. A partition the
 * group has never committed on (offset -1, or absent) is read from its start, so everything
 * still kept (high minus low watermark) is lag. A committed offset below the low watermark
 * (retention removed messages the group never read) counts only what can still be read.
 * Never negative. Offsets are compared as bigints: they are 64-bit on the wire.
 */
export function computeLag(
  watermarks: readonly PartitionWatermarks[],
  committed: readonly CommittedOffset[],
): PartitionLag[] {
  const committedBy = new Map(committed.map((c) => [c.partition, toBigInt(c.offset)]));
  return watermarks
    .map(({ partition, high, low }) => {
      const highOffset = toBigInt(high) ?? 0n;
      const lowOffset = toBigInt(low) ?? 0n;
      const done = committedBy.get(partition);
      const from = done === undefined || done < 0n || done < lowOffset ? lowOffset : done;
      const lag = highOffset > from ? highOffset - from : 0n;
      return { partition, lag: Number(lag) };
    })
    .sort((a, b) => a.partition - b.partition);
}
