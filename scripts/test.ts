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
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-jest-'));
  const summaryFile = join(dir, 'summary.json');
  const args = process.argv.slice(2);
  try {
    const code = await runCommand('npx', [
      'jest',
      '--json',
      `--outputFile=${summaryFile}`,
      // The fault-injection project is `npm run test:faults`'s, not part of the default run.
      ...(args.includes('--selectProjects') ? [] : ['--selectProjects', 'unit', 'integration']),
      ...args,
    ]);
    try {
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as JestSummary;
      console.log(
        `${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${summary.numPendingTests} skipped`,
      );
    } catch {
      console.log('Jest wrote no summary; see its output above.');
    }
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
