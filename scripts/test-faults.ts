/**
 * `npm run test:faults`: the fault-injection suite (issue 3). Builds the service once (the tests
 * run `node dist/main.js` as real child processes), makes sure the shared broker answers and the
 * broker jars for private brokers are cached, runs Jest's `faults` project one file at a time,
 * and writes the figures every test recorded to docs/reliability.md.
 *
 * FAULT_SYNC_MODES (comma list, default `event,batch`) runs every fault once per sync mode.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figures } from '../test/faults/fault-run';
import { ensureLocalBroker, runJest, summaryLine } from './jest-run';
import { ensureKafkaJars } from './kafka/local-kafka';
import { writeReportSection } from './reliability-report';
import { runCommand } from './run-command';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function report(
  figures: readonly Figures[],
  summary: string,
  modes: string,
  minutes: string,
): string {
  const sorted = [...figures].sort(
    (a, b) =>
      a.fault.localeCompare(b.fault, 'en', { numeric: true }) || a.mode.localeCompare(b.mode),
  );
  const rows = sorted.map(
    (f) =>
      `| ${f.fault} | ${f.mode} | ${f.produced} | ${f.distinctValid} | ${f.applied} | ${f.stale} ` +
      `| ${f.duplicatesSkipped} | ${f.deadLettered} of ${f.invalidSent} | **${f.lost}** ` +
      `| **${f.appliedTwice}** | ${seconds(f.recoveryMs)} | ${f.notes} |`,
  );
  return `## The fault-injection suite

Written by \`npm run test:faults\` (\`scripts/test-faults.ts\`, tests in \`test/faults/\`) at the end
of its last run.

- Run: ${new Date().toISOString()}, machine: ${process.platform}, ${cpus().length} cores (shared), sync modes: \`${modes}\`
- Result: ${summary}, in ${minutes} min

Each test runs the built service (\`node dist/main.js\`) as child processes against its own
topics (6 partitions each), consumer group and database, and kills whatever it injects a fault
into: its own \`mariadbd\`, \`redis-server\` or Kafka broker, never the machine's shared ones
(fault 8 freezes a TCP proxy of the test's own between the service and one of them instead).
It sends a stream of about 5,000 messages over three entities (30% duplicates re-sent with the
same eventId, 20% older versions sent after newer ones, 1% invalid: not JSON, a broken field
rule, another entity's type; deletes and undeletes; half the messages on a random partition so
one entity crosses partitions), injects the fault once a fifth to a quarter of it is recorded, clears it,
and waits until the group's lag is 0.

Every figure is measured in the database after the run, not taken from the service (which is
killed): **applied** and **stale** are \`processed_events\` rows by outcome; **dead-lettered** is
distinct (topic, partition, offset) in \`sync_errors\`; **lost** counts valid events with no
\`processed_events\` row plus rows of \`cms_products\`, \`cms_customers\`, \`cms_orders\` and
\`cms_order_items\` whose columns (all but \`synced_at\`) differ from the reference state
computed from the events alone; **applied twice** counts (entity, id, source_version) written
more than once, recorded by test-only AFTER INSERT/UPDATE triggers into an \`apply_audit\` table.
**Fault cleared → lag 0** is the time from the fault's end to a committed offset at the end of
every partition; it includes working off the backlog that built up meanwhile, and is 0 when the
service kept up during the fault (Redis down, killed connections). **Duplicates skipped** is the
number of duplicate messages sent; that none of them changed anything is what _lost_ and
_applied twice_ measure. The services run with \`RETRY_MAX_DELAY_MS=2000\`,
\`KAFKA_SESSION_TIMEOUT_MS=10000\` and \`KAFKA_PARTITIONS_CONCURRENCY=6\`.

| fault | mode | events produced | distinct valid | applied | stale | duplicates skipped | dead-lettered | lost | applied twice | fault cleared → lag 0 | observed |
| ----- | ---- | --------------: | -------------: | ------: | ----: | -----------------: | ------------: | ---: | ------------: | --------------------: | -------- |
${rows.join('\n')}
`;
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const buildCode = await runCommand('npm', ['run', 'build']);
  if (buildCode !== 0) return buildCode;
  const brokerCode = await ensureLocalBroker();
  if (brokerCode !== 0) return brokerCode;
  // Private brokers of the broker-fault test need the jars; a no-op when they are cached.
  await ensureKafkaJars((line) => console.log(line));

  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-faults-'));
  const resultsFile = join(dir, 'figures.jsonl');
  const modes = process.env.FAULT_SYNC_MODES ?? 'event,batch';
  try {
    const { code, summary: counts } = await runJest(
      ['--selectProjects', 'faults', '--runInBand', ...process.argv.slice(2)],
      { ...process.env, FAULT_RESULTS_FILE: resultsFile, FAULT_SYNC_MODES: modes },
    );
    // Undefined when Jest crashed before writing it; its output above says why.
    const summary =
      counts === undefined
        ? 'Jest wrote no summary'
        : summaryLine(counts.numPassedTests, counts.numFailedTests, counts.numPendingTests);
    const figures = existsSync(resultsFile)
      ? readFileSync(resultsFile, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as Figures)
      : [];
    if (figures.length > 0) {
      writeReportSection(
        'faults',
        report(figures, summary, modes, ((Date.now() - startedAt) / 60_000).toFixed(1)),
      );
      console.log(`wrote ${figures.length} row(s) to docs/reliability.md`);
    }
    console.log(summary);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
