/**
 * kafkajs 2.2.4 drops the records of aborted transactions (read_committed, its default) in
 * consumer/filterAbortedMessages.js, and gets two things wrong there:
 * - it opens at most one aborted transaction per record: when a fetch starts after the first
 *   offsets of two aborted transactions of different producers (the broker lists both), the
 *   first record of the second one is handed to the application;
 * - it takes any record whose key is the 4 bytes 00 00 00 00 for an abort marker, control
 *   record or not, and lets the rest of that producer's aborted transaction through.
 * The Java client's rule (Fetcher/CompletedFetch) is applied here instead, to every decoded
 * fetch response: before each record batch, open every aborted transaction whose first offset
 * is at or below the batch's last offset; a transactional data batch of an open producer is
 * aborted; that producer's abort marker (a control batch) closes it. An aborted record is marked
 * as a control record, which kafkajs already hides from handlers while still counting its offset
 * (so a fetch of nothing but aborted records still moves the partition on), and the list of
 * aborted transactions is emptied so that kafkajs' own filter has nothing left to do.
 */

interface FetchedBatchContext {
  firstOffset: string;
  lastOffsetDelta: number;
  producerId: string;
  inTransaction: boolean;
  isControlBatch: boolean;
}

export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  /** Absent for the legacy message sets (magic 0 and 1), which have no transactions. */
  batchContext?: FetchedBatchContext;
}

export interface FetchedPartition {
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: FetchedRecord[];
}

interface FetchResponseModule {
  decode: ((rawData: Buffer) => Promise<{ responses: { partitions: FetchedPartition[] }[] }>) & {
    [FIXED]?: true;
  };
}

const FIXED = Symbol('cms-sync read-committed filter');
/** The fetch versions whose responses carry aborted transactions (KIP-98). */
const TRANSACTIONAL_FETCH_VERSIONS = [4, 5, 6, 7, 8, 9, 10, 11];
const ABORT_MARKER_TYPE = 0;

/** A control record's key is version (int16) then type (int16): 0 abort, 1 commit. */
function isAbortMarker(record: FetchedRecord): boolean {
  return (
    record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === ABORT_MARKER_TYPE
  );
}

/** Marks the aborted records of one fetched partition, in place (see the file's comment). */
export function hideAbortedRecords(partition: FetchedPartition): void {
  const aborted = [...(partition.abortedTransactions ?? [])].sort((a, b) =>
    BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1,
  );
  partition.abortedTransactions = [];
  if (aborted.length === 0) return;
  const open = new Set<string>();
  let next = 0;
  for (const record of partition.messages) {
    const batch = record.batchContext;
    if (batch === undefined) continue;
    const batchLastOffset = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta);
    for (; next < aborted.length && BigInt(aborted[next]!.firstOffset) <= batchLastOffset; next++) {
      open.add(aborted[next]!.producerId);
    }
    if (batch.isControlBatch) {
      if (isAbortMarker(record)) open.delete(batch.producerId);
    } else if (batch.inTransaction && open.has(batch.producerId)) {
      record.isControlRecord = true;
    }
  }
}

/**
 * Wraps the decoder of every transactional fetch version with hideAbortedRecords. kafkajs looks
 * the decoder up on these module objects at each request, so this reaches every consumer of
 * the process (and of a Jest test file's module registry); wrapping twice is a no-op.
 */
export function installReadCommittedFilter(): void {
  for (const version of TRANSACTIONAL_FETCH_VERSIONS) {
    // Jest's module registry only sees a plain require; kafkajs' internals have no types.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const response = require(
      `kafkajs/src/protocol/requests/fetch/v${version}/response`,
    ) as FetchResponseModule;
    if (response.decode[FIXED]) continue;
    const decodeUnfiltered = response.decode;
    response.decode = Object.assign(
      async (rawData: Buffer) => {
        const decoded = await decodeUnfiltered(rawData);
        for (const topic of decoded.responses) topic.partitions.forEach(hideAbortedRecords);
        return decoded;
      },
      { [FIXED]: true as const },
    );
  }
}
