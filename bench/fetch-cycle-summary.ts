/**
 * `npx tsx bench/fetch-cycle-summary.ts <fetch-cycles-<pid>.json> <from, ISO time> [seconds]`:
 * the fetch cycles recorded by `bench/fetch-cycle-recorder.cjs` in a window (the latency run's,
 * say: its start is in the bench's log), and what the longest ones held. kafkajs fetches again
 * only when every partition batch of its last fetch is done, so a cycle lasts as long as its
 * workers take for all of them.
 */
import { readFileSync } from 'node:fs';
import { percentile } from './report';

/** What `bench/fetch-cycle-recorder.cjs` writes. */
interface FetchCycleRecord {
  /** Date.now() at each FETCH_START. */
  fetchStarts: number[];
  /** [Date.now() at END_BATCH_PROCESS, topic, partition, batch size, duration ms]. */
  batches: [number, string, number, number, number][];
}

const spread = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p) ?? 0;
  return `p50 ${at(50)}, p90 ${at(90)}, p99 ${at(99)}, max ${at(100)}`;
};

function main(): void {
  const [file, fromArg, secondsArg = '60'] = process.argv.slice(2);
  if (file === undefined || fromArg === undefined) {
    console.error(
      'usage: fetch-cycle-summary <fetch-cycles-<pid>.json> <from, ISO time> [seconds]',
    );
    process.exit(2);
  }
  const from = Date.parse(fromArg);
  const to = from + Number(secondsArg) * 1000;
  const record = JSON.parse(readFileSync(file, 'utf8')) as FetchCycleRecord;
  const cycles: { start: number; ms: number }[] = [];
  record.fetchStarts.forEach((start, i) => {
    const next = record.fetchStarts[i + 1];
    if (next !== undefined && start >= from && next <= to) cycles.push({ start, ms: next - start });
  });
  const batches = record.batches.filter(([at]) => at >= from && at <= to);
  if (cycles.length === 0) {
    console.error('no fetch cycle in that window');
    process.exit(1);
  }
  console.log(`${cycles.length} fetch cycles, ms: ${spread(cycles.map((c) => c.ms))}`);
  console.log(
    `${batches.length} partition batches, ${(batches.length / cycles.length).toFixed(1)} per cycle; events per batch: ${spread(batches.map((b) => b[3]))}; ms per batch: ${spread(batches.map((b) => b[4]))}`,
  );
  const longest = [...cycles].sort((a, b) => b.ms - a.ms).slice(0, 10);
  console.log('the longest cycles: ms, then the durations of their longest batches');
  for (const cycle of longest) {
    const inCycle = batches
      .filter(([at]) => at > cycle.start && at <= cycle.start + cycle.ms)
      .map((b) => b[4])
      .sort((a, b) => b - a);
    console.log(`  ${cycle.ms}: ${inCycle.length} batches, ${inCycle.slice(0, 6).join(', ')}`);
  }
}

main();
