import { Logger } from '@nestjs/common';
import type { OffsetsByTopicPartition } from 'kafkajs';
import { type OffsetCommitAccess, OffsetCommitScheduler } from './offset-commit-scheduler';

/** kafkajs' offset bookkeeping in miniature: offsets resolved, and the requests a commit sends. */
class FakeOffsets implements OffsetCommitAccess {
  readonly sent: OffsetsByTopicPartition[] = [];
  private readonly resolved = new Map<number, string>();
  failNext: Error | undefined;

  resolve(partition: number, offset: number): void {
    this.resolved.set(partition, String(offset + 1));
  }

  uncommittedOffsets = (): OffsetsByTopicPartition => ({
    topics:
      this.resolved.size === 0
        ? []
        : [
            {
              topic: 't',
              partitions: [...this.resolved].map(([partition, offset]) => ({ partition, offset })),
            },
          ],
  });

  commitOffsetsIfNecessary = async (offsets?: OffsetsByTopicPartition): Promise<void> => {
    await Promise.resolve();
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    const sent = offsets ?? { topics: [] };
    this.sent.push(sent);
    for (const { partition, offset } of sent.topics.flatMap((t) => t.partitions)) {
      if (this.resolved.get(partition) === offset) this.resolved.delete(partition);
    }
  };
}

describe('OffsetCommitScheduler', () => {
  let offsets: FakeOffsets;
  let scheduler: OffsetCommitScheduler;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    offsets = new FakeOffsets();
    scheduler = new OffsetCommitScheduler(100);
    scheduler.attach(offsets);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('sends the offsets of every batch that ended within the interval in one commit', async () => {
    offsets.resolve(0, 4);
    scheduler.batchEnded();
    await jest.advanceTimersByTimeAsync(60);
    offsets.resolve(1, 9);
    scheduler.batchEnded();
    offsets.resolve(0, 7);
    scheduler.batchEnded();
    expect(offsets.sent).toEqual([]);

    await jest.advanceTimersByTimeAsync(40);
    expect(offsets.sent).toEqual([
      {
        topics: [
          {
            topic: 't',
            partitions: [
              { partition: 0, offset: '8' },
              { partition: 1, offset: '10' },
            ],
          },
        ],
      },
    ]);
  });

  it('sends nothing when nothing new is resolved', async () => {
    scheduler.batchEnded();
    await jest.advanceTimersByTimeAsync(1000);
    await scheduler.commitNow();
    expect(offsets.sent).toEqual([]);
  });

  it('commits at once on request, and the timer then finds nothing left', async () => {
    offsets.resolve(2, 0);
    scheduler.batchEnded();
    await scheduler.commitNow();
    expect(offsets.sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(offsets.sent).toHaveLength(1);
  });

  it('tries a failed commit again after a backoff, without rejecting', async () => {
    offsets.resolve(0, 3);
    offsets.failNext = new Error('The coordinator is not available');
    await expect(scheduler.commitNow()).resolves.toBeUndefined();
    expect(offsets.sent).toEqual([]);
    expect(warn).toHaveBeenCalledWith(
      'offsets not committed (attempt 1), trying again: The coordinator is not available',
    );

    // Full jitter below 100 ms * 2^1.
    await jest.advanceTimersByTimeAsync(200);
    expect(offsets.sent).toHaveLength(1);
  });

  it('waits longer after each failure in a row, and reads kafkajs inside the guard', async () => {
    let attempts = 0;
    const refusing: OffsetCommitAccess = {
      uncommittedOffsets: () => {
        attempts += 1;
        throw new Error('no offset manager');
      },
      commitOffsetsIfNecessary: offsets.commitOffsetsIfNecessary,
    };
    // Jitter at its top: retries after 199, 399, 799 and 1,599 ms.
    const patient = new OffsetCommitScheduler(100, () => 0.999);
    patient.attach(refusing);
    await expect(patient.commitNow()).resolves.toBeUndefined();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(attempts).toBe(3);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(attempts).toBe(5);
    patient.detach();
  });

  it('logs a commit refused by a rebalance as expected, not as a warning', async () => {
    offsets.resolve(0, 3);
    offsets.failNext = Object.assign(new Error('The group is rebalancing'), {
      type: 'REBALANCE_IN_PROGRESS',
    });
    await scheduler.commitNow();
    expect(warn).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith(
      'offsets not committed, the consumer must rejoin its group: The group is rebalancing',
    );
  });

  it('runs one commit at a time, in the order asked', async () => {
    const started: string[] = [];
    const slow: OffsetCommitAccess = {
      uncommittedOffsets: offsets.uncommittedOffsets,
      commitOffsetsIfNecessary: async (sent) => {
        started.push(JSON.stringify(sent));
        await new Promise((resolve) => setTimeout(resolve, 50));
        await offsets.commitOffsetsIfNecessary(sent);
      },
    };
    scheduler.attach(slow);
    offsets.resolve(0, 1);
    const first = scheduler.commitNow();
    await jest.advanceTimersByTimeAsync(0);
    offsets.resolve(0, 2);
    const second = scheduler.commitNow();
    await jest.advanceTimersByTimeAsync(25);
    expect(started).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    await Promise.all([first, second]);
    expect(started).toHaveLength(2);
    expect(offsets.sent.map((o) => o.topics[0]?.partitions[0]?.offset)).toEqual(['2', '3']);
  });

  it('stops committing once detached', async () => {
    offsets.resolve(0, 5);
    scheduler.batchEnded();
    scheduler.detach();
    await jest.advanceTimersByTimeAsync(1000);
    await scheduler.commitNow();
    expect(offsets.sent).toEqual([]);
  });
});
