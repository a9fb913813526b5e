/**
 * `npm run test:kafka-compat`: the compatibility run against the last 3.x release. Starts a
 * private Kafka 3.9.1 broker (own port, own data folder, removed afterwards), runs a few key
 * integration files against it through TEST_KAFKA_BROKERS, stops it, and ends with the plain
 * "N passed, N failed" line. Builds first: the Java producer test runs `dist/main.js`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJest, summaryLine } from './jest-run';
import { ensureKafkaJars, KAFKA_COMPAT_VERSION, startBroker } from './kafka/local-kafka';
import { runCommand } from './run-command';

/** The golden sync path and what real Java producers send (every codec, transactions). */
const FILES = ['test/sync.e2e-spec.ts', 'test/java-producer.e2e-spec.ts'];
/**
 * Below Linux's ephemeral range (32768-60999): 39092 was taken once by an outgoing connection's
 * local port, and the broker could not bind.
 */
const PORT = 29092;

async function main(): Promise<number> {
  const buildCode = await runCommand('npm', ['run', 'build']);
  if (buildCode !== 0) return buildCode;
  await ensureKafkaJars((line) => console.log(line), KAFKA_COMPAT_VERSION);
  const dir = await mkdtemp(join(tmpdir(), 'cms-sync-kafka-compat-'));
  try {
    const broker = await startBroker({
      version: KAFKA_COMPAT_VERSION,
      port: PORT,
      controllerPort: PORT + 1,
      dataDir: join(dir, 'data'),
      logFile: join(dir, 'kafka.log'),
    });
    console.log(`Kafka ${KAFKA_COMPAT_VERSION} (pid ${broker.pid}) answers on ${broker.brokers}`);
    try {
      const { code, summary } = await runJest(
        ['--selectProjects', 'integration', '--runInBand', ...FILES],
        { ...process.env, TEST_KAFKA_BROKERS: broker.brokers },
      );
      console.log(`Kafka ${KAFKA_COMPAT_VERSION} compatibility run of ${FILES.join(', ')}:`);
      console.log(
        summaryLine(
          summary?.numPassedTests ?? 0,
          summary?.numFailedTests ?? 0,
          summary?.numPendingTests ?? 0,
        ),
      );
      return summary === undefined && code === 0 ? 1 : code;
    } finally {
      await broker.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
