/**
 * `npm test`: the whole suite, unit and integration, against the real local Kafka broker,
 * MariaDB and Redis. Starts the broker first when none answers, then runs Jest and ends with a
 * plain "N passed, N failed" line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerAnswers } from './kafka/local-kafka';
import { runCommand } from './run-command';

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
}

async function main(): Promise<number> {
  if (!(await brokerAnswers('127.0.0.1:9092', 3000))) {
    console.log('No Kafka broker answers on 127.0.0.1:9092: starting one with services:up.');
    const code = await runCommand('npx', ['tsx', 'scripts/services.ts', 'up']);
    if (code !== 0) return code;
  }
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
  let exitCode = 0;
  for (const run of runs) {
    if (run.mode !== undefined) console.log(`\n=== Jest with TEST_SYNC_MODE=${run.mode} ===`);
    const { code, summary } = await jest(run.jestArgs, run.mode);
    if (code !== 0) exitCode = code;
    total.passed += summary?.numPassedTests ?? 0;
    total.failed += summary?.numFailedTests ?? 0;
    total.skipped += summary?.numPendingTests ?? 0;
    if (summary === undefined) console.log('Jest wrote no summary; see its output above.');
  }
  console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return exitCode;
}

async function jest(
  jestArgs: readonly string[],
  mode: string | undefined,
): Promise<{ code: number; summary: JestSummary | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-jest-'));
  const summaryFile = join(dir, 'summary.json');
  try {
    const env = mode === undefined ? process.env : { ...process.env, TEST_SYNC_MODE: mode };
    const code = await runCommand(
      'npx',
      ['jest', '--json', `--outputFile=${summaryFile}`, ...jestArgs],
      env,
    );
    try {
      return { code, summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as JestSummary };
    } catch {
      return { code, summary: undefined };
    }
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
