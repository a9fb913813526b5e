import { Logger } from '@nestjs/common';
import type { EachBatchPayload } from 'kafkajs';
import { isGroupRebalance } from './group-membership-error';

/** kafkajs' access to the running consumer's resolved and committed offsets, from any batch. */
export type OffsetCommitAccess = Pick<
  EachBatchPayload,
  'uncommittedOffsets' | 'commitOffsetsIfNecessary'
>;

/**
 * Commits the offsets handlers have resolved at most once per interval, in the background.
 *
 * kafkajs' autoCommit sends an OffsetCommit after every partition batch, and each worker waits
 * for that broker round trip before it takes its next batch, while the next fetch waits for every
 * worker. Under a steady trickle (a couple of events per batch) that wait set the latency tail.
 * Here nothing on the batch path waits for the broker: the first batch that ends arms one timer,
 * and when it fires everything resolved so far goes in one request.
 *
 * A commit only ever carries offsets the handlers resolved, so an offset is still committed only
 * after its event is applied, found duplicate or stale, or dead-lettered. What is resolved and not
 * yet committed is committed before the group rebalances and when the consumer stops; a crash
 * loses at most one interval of commits, whose events come again and are answered as duplicates.
 */
export class OffsetCommitScheduler {
  private readonly logger = new Logger(OffsetCommitScheduler.name);
  private access: OffsetCommitAccess | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Commits run one after another, so a later one never lands before an earlier one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs: number) {}

  /** Each batch hands over kafkajs' functions: after a consumer restart only the newest work. */
  attach(access: OffsetCommitAccess): void {
    this.access = access;
  }

  /** A batch ended, one of ours or one kafkajs filtered to nothing: commit within the interval. */
  batchEnded(): void {
    if (this.timer !== undefined || this.access === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commitNow();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Commits everything resolved now, after any commit already under way; never rejects. */
  commitNow(): Promise<void> {
    this.queue = this.queue.then(() => this.commit());
    return this.queue;
  }

  /** The consumer stopped or crashed: the functions it handed over no longer reach a group member. */
  detach(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.access = undefined;
  }

  private async commit(): Promise<void> {
    const access = this.access;
    if (access === undefined) return;
    const offsets = access.uncommittedOffsets();
    if (offsets.topics.length === 0) return;
    try {
      await access.commitOffsetsIfNecessary(offsets);
    } catch (err) {
      // The offsets stay resolved and the next commit carries them (kafkajs' own request retries
      // pace these attempts). After a rebalance that member's offsets are gone with its generation:
      // the partitions' new owners read those events again and answer them as duplicates.
      const message = err instanceof Error ? err.message : String(err);
      if (isGroupRebalance(err)) {
        this.logger.log(`offsets not committed, the group is rebalancing: ${message}`);
      } else {
        this.logger.warn(`offsets not committed, trying again: ${message}`);
      }
      this.batchEnded();
    }
  }
}
