import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerAnswers } from './kafka/local-kafka';
import { runCommand } from './run-command';

export interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
}

/** Starts the local broker with services:up unless one already answers; returns an exit code. */
export async function ensureLocalBroker(): Promise<number> {
  if (await brokerAnswers('127.0.0.1:9092', 3000)) return 0;
  console.log('No Kafka broker answers on 127.0.0.1:9092: starting one with services:up.');
  return runCommand('npx', ['tsx', 'scripts/services.ts', 'up']);
}

/** Runs Jest with the terminal attached and reads back its JSON summary (undefined if it crashed). */
export async function runJest(
  jestArgs: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; summary: JestSummary | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-jest-'));
  const summaryFile = join(dir, 'summary.json');
  try {
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

/** The plain closing line CI reads: "N passed, N failed, N skipped". */
export const summaryLine = (passed: number, failed: number, skipped: number) =>
  `${passed} passed, ${failed} failed, ${skipped} skipped`;
