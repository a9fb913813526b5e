/**
 * `npm test`: the whole suite, unit and integration, against the real local Kafka broker,
 * MariaDB and Redis. Builds the service (the Java producer test runs `dist/main.js`, which must
 * not be stale), starts the broker when none answers, then runs Jest and ends with a plain
 * "N passed, N failed" line.
 */
import { ensureLocalBroker, type JestSummary, runJest, summaryLine } from './jest-run';
import { inputResultsSection, writeReportSection } from './reliability-report';
import { runCommand } from './run-command';

async function main(): Promise<number> {
  const buildCode = await runCommand('npm', ['run', 'build']);
  if (buildCode !== 0) return buildCode;
  const brokerCode = await ensureLocalBroker();
  if (brokerCode !== 0) return brokerCode;
  const args = process.argv.slice(2);
  // The default run covers both sync modes: the whole suite in batch mode (the default), and the
  // integration tests once more in event mode. Arguments (a path, a project) run Jest once as given.
  const runs =
    args.length > 0
      ? [{ mode: undefined, jestArgs: args }]
      : [
          { mode: 'batch', jestArgs: ['--selectProjects', 'unit', 'integration'] },
          { mode: 'event', jestArgs: ['--selectProjects', 'integration'] },
        ];
  const total = { passed: 0, failed: 0, skipped: 0 };
  const byMode = new Map<string, JestSummary>();
  let exitCode = 0;
  for (const run of runs) {
    if (run.mode !== undefined) console.log(`\n=== Jest with TEST_SYNC_MODE=${run.mode} ===`);
    const env = run.mode === undefined ? process.env : { ...process.env, TEST_SYNC_MODE: run.mode };
    const { code, summary } = await runJest(run.jestArgs, env);
    if (code !== 0) exitCode = code;
    if (summary === undefined) console.log('Jest wrote no summary; see its output above.');
    else if (run.mode !== undefined) byMode.set(run.mode, summary);
    total.passed += summary?.numPassedTests ?? 0;
    total.failed += summary?.numFailedTests ?? 0;
    total.skipped += summary?.numPendingTests ?? 0;
  }
  if (byMode.size === runs.length && byMode.size > 0) {
    writeReportSection('inputs', inputResultsSection(byMode));
    console.log('wrote the hostile-input and codec results to docs/reliability.md');
  }
  console.log(summaryLine(total.passed, total.failed, total.skipped));
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
