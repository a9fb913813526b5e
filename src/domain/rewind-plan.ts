/** What the rewind knows about one partition of a source topic. Offsets are Kafka's, as bigint. */
export interface PartitionFacts {
  readonly topic: string;
  readonly partition: number;
  /** First offset still on the broker. */
  readonly low: bigint;
  /** Offset the next message will get. */
  readonly high: bigint;
  /** The group's committed offset; null: the group never committed one. */
  readonly committed: bigint | null;
  /** Highest offset the restored database recorded as processed before the cutoff; null: none. */
  readonly recorded: bigint | null;
  /** The broker's first offset at or after the cutoff time (its high watermark if none). */
  readonly atCutoff: bigint;
}

export type TargetSource = 'recorded' | 'time';

export interface PartitionRewind {
  readonly topic: string;
  readonly partition: number;
  readonly committed: bigint | null;
  /** Where the database's records (or the fallback time) say consumption must restart. */
  readonly target: bigint;
  readonly source: TargetSource;
  /** The offset the group is given; null: left as it is (see `reason`). */
  readonly newOffset: bigint | null;
  /** Messages the group consumes again: from where it will restart to the high watermark. */
  readonly replay: bigint;
  /** Why the offset is not simply the target, or what the operator must know. */
  readonly notes: readonly string[];
  /** Messages between the target and the low watermark: gone from the broker, not replayable. */
  readonly lost: bigint;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * The restart offset of one partition. The database's own record comes first: the service
 * handles a partition in offset order and records every applied or stale event in the
 * transaction that applied it, so every message up to the highest recorded offset is in the
 * restored tables, and restarting right after it replays everything that is not. Only a
 * partition without a record falls back to the broker's offset at the cutoff time.
 *
 * The offset only ever moves back: a group whose committed offset is at or before the target
 * already replays everything that matters, and moving it forward could skip what the database
 * lacks. A target before the low watermark starts at the low watermark (the rest is gone) and
 * says how many messages were lost to retention.
 */
export function planPartitionRewind(facts: PartitionFacts): PartitionRewind {
  const source: TargetSource = facts.recorded === null ? 'time' : 'recorded';
  const wanted = facts.recorded === null ? facts.atCutoff : facts.recorded + 1n;
  const lost = wanted < facts.low ? facts.low - wanted : 0n;
  const target = min(max(wanted, facts.low), facts.high);
  const notes: string[] = [];
  let newOffset: bigint | null = null;
  let restart: bigint;
  if (facts.committed === null) {
    restart = facts.low;
    notes.push('no committed offset: the group starts from the earliest offset, before the target');
  } else if (facts.committed <= target) {
    restart = max(facts.committed, facts.low);
    if (facts.committed < target) {
      notes.push(
        'committed offset is before the target: kept (moving it forward could skip events)',
      );
    }
  } else {
    restart = target;
    newOffset = target;
  }
  if (lost > 0n) {
    notes.push(
      `WARNING: ${lost} message(s) before the low watermark are gone from the broker (retention)`,
    );
  }
  return {
    topic: facts.topic,
    partition: facts.partition,
    committed: facts.committed,
    target,
    source,
    newOffset,
    replay: facts.high - restart,
    notes,
    lost,
  };
}
