import { Logger } from '@nestjs/common';
import type { EachBatchPayload } from 'kafkajs';
import { backoffDelay } from '../domain/backoff';
import { mustRejoinGroup } from './group-membership-error';

/** A failed commit is tried again after a backoff from this floor (or the interval) to this cap. */
const RETRY_FLOOR_MS = 100;
const RETRY_MAX_MS = 30_000;

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
  private failures = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Each batch hands over kafkajs' functions: after a consumer restart only the newest work. */
  attach(access: OffsetCommitAccess): void {
    this.access = access;
  }

  /** A batch ended, one of ours or one kafkajs filtered to nothing: commit within the interval. */
  batchEnded(): void {
    this.arm(this.intervalMs);
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

  private arm(delayMs: number): void {
    if (this.timer !== undefined || this.access === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commitNow();
    }, delayMs);
    this.timer.unref();
  }

  private async commit(): Promise<void> {
    const access = this.access;
    if (access === undefined) return;
    try {
      const offsets = access.uncommittedOffsets();
      if (offsets.topics.length === 0) return;
      await access.commitOffsetsIfNecessary(offsets);
      this.failures = 0;
    } catch (err) {
      // The offsets stay resolved and a later commit carries them: the next batch's, or this
      // retry, which backs off so that a coordinator that keeps refusing is not flooded. After a
      // rebalance that member's offsets are gone with its generation: the partitions' new owners
      // read those events again and answer them as duplicates.
      this.failures += 1;
      const message = err instanceof Error ? err.message : String(err);
      if (mustRejoinGroup(err)) {
        this.logger.log(`offsets not committed, the consumer must rejoin its group: ${message}`);
      } else {
        this.logger.warn(
          `offsets not committed (attempt ${this.failures}), trying again: ${message}`,
        );
      }
      this.arm(
        backoffDelay(
          this.failures,
          Math.max(this.intervalMs, RETRY_FLOOR_MS),
          RETRY_MAX_MS,
          this.random,
        ),
      );
    }
  }
}
