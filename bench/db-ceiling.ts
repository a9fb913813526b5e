import type { DataSource } from 'typeorm';
import { parseEvent } from '../src/domain/event-validation';
import type { SyncEvent } from '../src/domain/sync-event';
import { unitOfWorkFor } from '../test/support/unit-of-work';
import { type BenchEvent, envelope, type Kind } from './stream';

/**
 * The database's ceiling for the stream: the service's own unit of work (so the very statements
 * the service issues) replayed from memory, with no Kafka and no parsing in the timed part.
 * Events are split into `partitions` lanes by entity (as keys are on the topics), each lane in
 * chunks of `chunkSize` as batch mode cuts them, and the lanes worked `connections` at a time.
 * A duplicate of an event in an earlier chunk is left out, as a Redis hit would be.
 */
export function ceilingChunks(
  events: readonly BenchEvent[],
  salt: string,
  partitions: number,
  chunkSize: number,
): SyncEvent[][][] {
  const lanes: SyncEvent[][] = Array.from({ length: partitions }, () => []);
  const seen = new Set<number>();
  for (const event of events) {
    if (seen.has(event.seq)) continue;
    seen.add(event.seq);
    const parsed = parseEvent(event.kind, {
      topic: `bench.${event.kind}`,
      partition: event.id % partitions,
      offset: String(event.seq),
      key: Buffer.from(String(event.id)),
      value: Buffer.from(envelope(event, salt)),
    });
    lanes[event.id % partitions]?.push(parsed);
  }
  return lanes.map((lane) => {
    const chunks: SyncEvent[][] = [];
    // A Kafka batch carries one topic: chunks never mix kinds.
    const byKind = new Map<Kind, SyncEvent[]>();
    for (const event of lane) {
      const pending = byKind.get(event.kind) ?? [];
      pending.push(event);
      byKind.set(event.kind, pending);
      if (pending.length === chunkSize) {
        chunks.push(pending);
        byKind.set(event.kind, []);
      }
    }
    for (const rest of byKind.values()) if (rest.length > 0) chunks.push(rest);
    return chunks;
  });
}

/**
 * Applies the lanes `connections` at a time; resolves with the wall time in seconds. One event
 * per transaction runs as event mode does: the transactions of a lane on one held connection,
 * each COMMIT carried by the next transaction's first round trip.
 */
export async function replay(
  dataSource: DataSource,
  lanes: readonly SyncEvent[][][],
  connections: number,
): Promise<number> {
  const unitOfWork = unitOfWorkFor(dataSource);
  const queue = [...lanes];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let lane = queue.shift(); lane !== undefined; lane = queue.shift()) {
        if (lane.every((chunk) => chunk.length === 1)) {
          await unitOfWork.session(async (session) => {
            for (const chunk of lane) await session.apply(chunk);
          });
        } else {
          for (const chunk of lane) await unitOfWork.apply(chunk);
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}
