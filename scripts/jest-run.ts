import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TEST_BROKERS, testBrokers } from '../test/support/kafka-broker';
import { brokerAnswers } from './kafka/local-kafka';
import { runCommand } from './run-command';

/** How long Jest may take to exit after writing its summary before it is stopped. */
const EXIT_GRACE_MS = 60_000;

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
    const code = await runJestProcess(
      ['jest', '--json', `--outputFile=${summaryFile}`, ...jestArgs],
      env,
      summaryFile,
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

/**
 * Runs `npx jest …` in a process group of its own, with the terminal attached (SIGINT and
 * SIGTERM passed on, and then this process ends by them too), and resolves with its exit code.
 * Jest waits for every open handle before it exits, so a test that fails before closing its
 * connections would hold CI until its time limit: once the summary is written and Jest has not
 * exited within EXIT_GRACE_MS, the group is killed and the run fails, saying why.
 */
function runJestProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  summaryFile: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', args, { stdio: 'inherit', env, detached: true });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    let interrupted: NodeJS.Signals | undefined;
    const forward = (signal: NodeJS.Signals) => {
      interrupted = signal;
      killGroup(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    let summaryAt: number | undefined;
    let hung = false;
    const watchdog = setInterval(() => {
      summaryAt ??= existsSync(summaryFile) ? Date.now() : undefined;
      if (summaryAt !== undefined && Date.now() - summaryAt > EXIT_GRACE_MS) {
        hung = true;
        console.error(
          `Jest wrote its results but had not exited ${EXIT_GRACE_MS / 1000} s later: ` +
            'a test left a handle open (a connection, a timer). Stopping it; ' +
            'run that file with --detectOpenHandles.',
        );
        killGroup('SIGKILL');
      }
    }, 1000);
    const done = () => {
      clearInterval(watchdog);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      done();
      // Interrupted by hand: end this process too, as it would have ended without the handlers.
      if (interrupted !== undefined) process.kill(process.pid, interrupted);
      resolve(hung ? 1 : (code ?? (signal ? 1 : 0)));
    });
  });
}
