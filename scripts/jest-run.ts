import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TEST_BROKERS, testBrokers } from '../test/support/kafka-broker';
import { brokerAnswers } from './kafka/local-kafka';
import { runCommand } from './run-command';

export interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults?: {
    name: string;
    assertionResults: { title: string; status: string }[];
  }[];
}

/**
 * Makes sure the tests' broker (TEST_KAFKA_BROKERS, see test/support/kafka-broker.ts) answers:
 * the default local one is started with services:up when it does not; one named explicitly is
 * someone else's to start, so it only gets a clear message. Returns an exit code.
 */
export async function ensureLocalBroker(): Promise<number> {
  const brokers = testBrokers();
  if (await brokerAnswers(brokers, 3000)) return 0;
  if (brokers !== DEFAULT_TEST_BROKERS) {
    console.error(`No Kafka broker answers on TEST_KAFKA_BROKERS=${brokers}: start it first.`);
    return 1;
  }
  console.log(`No Kafka broker answers on ${brokers}: starting one with services:up.`);
  return runCommand('npx', ['tsx', 'scripts/services.ts', 'up'], {
    ...process.env,
    KAFKA_BROKERS: brokers,
  });
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
