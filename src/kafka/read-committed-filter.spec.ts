import {
  hideAbortedRecords,
  type FetchedPartition,
  type FetchedRecord,
  installReadCommittedFilter,
} from './read-committed-filter';

// kafkajs' Batch is what hands records to the handlers; its internals have no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Batch = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  partition: FetchedPartition & { partition: number; highWatermark: string },
) => { messages: FetchedRecord[]; lastOffset(): string };

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** One record in its own batch: a transactional data record, a control record or a plain one. */
function record(
  offset: number,
  producerId: string,
  kind: 'txn' | 'plain' | 'abort' | 'commit',
  key: Buffer = Buffer.from(`k${offset}`),
): FetchedRecord {
  const control = kind === 'abort' || kind === 'commit';
  return {
    offset: String(offset),
    key: kind === 'abort' ? ABORT : kind === 'commit' ? COMMIT : key,
    isControlRecord: control,
    batchContext: {
      firstOffset: String(offset),
      lastOffsetDelta: 0,
      producerId,
      inTransaction: kind !== 'plain',
      isControlBatch: control,
    },
  };
}

const aborted = (...list: [string, number][]) =>
  list.map(([producerId, firstOffset]) => ({ producerId, firstOffset: String(firstOffset) }));

/** What kafkajs' Batch hands to a handler, after our filter ran on the fetched partition. */
function delivered(fetchedOffset: number, partition: FetchedPartition): string[] {
  hideAbortedRecords(partition);
  const batch = new Batch('t', String(fetchedOffset), {
    ...partition,
    partition: 0,
    highWatermark: '100',
  });
  return batch.messages.map((m) => `${m.offset}:${m.batchContext?.producerId}`);
}

describe('hideAbortedRecords', () => {
  it('drops both aborted transactions when a fetch starts after the first offsets of both', () => {
    // A's aborted transaction began at 5, B's at 6; this fetch starts at 6 (kafkajs alone keeps 6:B).
    const partition = {
      abortedTransactions: aborted(['A', 5], ['B', 6]),
      messages: [
        record(6, 'B', 'txn'),
        record(7, 'A', 'txn'),
        record(8, 'B', 'txn'),
        record(9, 'A', 'abort'),
        record(10, 'B', 'abort'),
        record(11, 'C', 'plain'),
      ],
    };
    expect(delivered(6, partition)).toEqual(['11:C']);
  });

  it('keeps a committed transaction of a producer whose next one is aborted', () => {
    const partition = {
      abortedTransactions: aborted(['A', 3]),
      messages: [
        record(0, 'A', 'txn'),
        record(1, 'A', 'txn'),
        record(2, 'A', 'commit'),
        record(3, 'A', 'txn'),
        record(4, 'A', 'abort'),
        record(5, 'A', 'txn'),
        record(6, 'A', 'commit'),
      ],
    };
    expect(delivered(0, partition)).toEqual(['0:A', '1:A', '5:A']);
  });

  it('does not take a data record whose key is 00 00 00 00 for an abort marker', () => {
    // kafkajs alone ends the aborted transaction at 2 and hands out 3:A.
    const partition = {
      abortedTransactions: aborted(['A', 1]),
      messages: [
        record(1, 'A', 'txn'),
        record(2, 'A', 'txn', Buffer.from([0, 0, 0, 0])),
        record(3, 'A', 'txn'),
        record(4, 'A', 'abort'),
        record(5, 'B', 'plain'),
      ],
    };
    expect(delivered(1, partition)).toEqual(['5:B']);
  });

  it('opens an aborted transaction that starts inside a multi-record batch', () => {
    const first: FetchedRecord = record(10, 'A', 'txn');
    const batchOfThree = [10, 11, 12].map((offset) => ({
      ...first,
      offset: String(offset),
      batchContext: { ...first.batchContext!, lastOffsetDelta: 2 },
    }));
    const partition = {
      abortedTransactions: aborted(['A', 10]),
      messages: [...batchOfThree, record(13, 'A', 'abort')],
    };
    expect(delivered(10, partition)).toEqual([]);
  });

  it('still moves the partition on when a fetch holds nothing but aborted records', () => {
    const partition = {
      abortedTransactions: aborted(['A', 20]),
      messages: [record(20, 'A', 'txn'), record(21, 'A', 'txn')],
    };
    hideAbortedRecords(partition);
    const batch = new Batch('t', '20', { ...partition, partition: 0, highWatermark: '30' });
    expect(batch.messages).toEqual([]);
    expect(batch.lastOffset()).toBe('21');
  });

  it('leaves a fetch without aborted transactions alone', () => {
    const messages = [record(0, 'A', 'txn'), record(1, 'A', 'commit'), record(2, 'B', 'plain')];
    const partition = { abortedTransactions: [], messages };
    expect(delivered(0, partition)).toEqual(['0:A', '2:B']);
  });
});

describe('installReadCommittedFilter', () => {
  it('wraps the fetch decoders once, however often it is called', () => {
    const v11 = () =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('kafkajs/src/protocol/requests/fetch/v11/response') as { decode: unknown }).decode;
    const stock = v11();
    installReadCommittedFilter();
    const wrapped = v11();
    installReadCommittedFilter();
    expect(wrapped).not.toBe(stock);
    expect(v11()).toBe(wrapped);
  });
});
