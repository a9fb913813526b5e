/**
 * `npm run services:up` / `services:down`: the backing services for local runs and tests.
 * Kafka is started here (a real broker of KAFKA_VERSION from cached Maven jars, see scripts/kafka/);
 * MariaDB and Redis are only checked, since the machine runs them as system services.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  brokerAnswers,
  ensureKafkaJars,
  KAFKA_VERSION,
  kafkaCacheDir,
  kafkaVersionDir,
  processAlive,
  startBroker,
  stopPid,
  tcpAnswers,
} from './kafka/local-kafka';

const DEFAULT_BROKER = '127.0.0.1:9092';
const PROBE_TIMEOUT_MS = 3_000;

const CHECKED_SERVICES = [
  {
    name: 'MariaDB',
    port: 3306,
    startWith: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  },
  {
    name: 'Redis',
    port: 6379,
    startWith:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no' +
      ' --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
];

interface LocalKafka {
  cacheDir: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
}

function localKafka(): LocalKafka {
  const cacheDir = kafkaCacheDir();
  return {
    cacheDir,
    // Per release: a downgrade could not read a newer release's storage, and an upgrade of a
    // local test broker is not worth the risk; its topics are the tests' own, made afresh.
    dataDir: join(kafkaVersionDir(), 'data'),
    logFile: join(cacheDir, 'kafka.log'),
    pidFile: join(cacheDir, 'kafka.pid'),
  };
}

async function up(): Promise<number> {
  const target = kafkaTarget();
  if (await brokerAnswers(target.brokers, PROBE_TIMEOUT_MS)) {
    console.log(`Kafka already answers on ${target.brokers}; nothing to start.`);
    return 0;
  }

  const missing: string[] = [];
  for (const service of CHECKED_SERVICES) {
    const address = `127.0.0.1:${service.port}`;
    if (await tcpAnswers('127.0.0.1', service.port, PROBE_TIMEOUT_MS)) {
      console.log(`${service.name}: ok (${address})`);
    } else {
      console.error(`${service.name}: missing, nothing answers on ${address}; start it with:`);
      console.error(`  ${service.startWith}`);
      missing.push(service.name);
    }
  }

  if (!target.local) {
    throw new Error(
      `KAFKA_BROKERS names ${target.brokers}, which does not answer; services:up can only start ` +
        'a broker on this machine (unset KAFKA_BROKERS to use 127.0.0.1:9092)',
    );
  }
  const kafka = localKafka();
  await mkdir(kafka.cacheDir, { recursive: true });
  const recorded = await readPid(kafka.pidFile);
  if (recorded !== undefined) {
    if (ourBroker(recorded, kafka.cacheDir) === 'ours') {
      throw new Error(
        `the Kafka broker started earlier (pid ${recorded}) is running but does not answer on ` +
          `${target.brokers}; see ${kafka.logFile}, or run \`npm run services:down\` and retry`,
      );
    }
    await rm(kafka.pidFile, { force: true });
  }

  const startedAt = Date.now();
  const jars = await ensureKafkaJars((line) => console.log(`Kafka: ${line}`));
  console.log(
    jars.fetched
      ? `Kafka: fetched ${jars.jarCount} jars into ${jars.libsDir} in ${secondsSince(startedAt)}`
      : `Kafka: using ${jars.jarCount} cached jars in ${jars.libsDir}`,
  );

  const brokerStartedAt = Date.now();
  const broker = await startBroker({
    port: target.port,
    controllerPort: target.port + 1,
    dataDir: kafka.dataDir,
    logFile: kafka.logFile,
  });
  await writeFile(kafka.pidFile, `${broker.pid}\n`);
  console.log(
    `Kafka: ${broker.formatted ? 'formatted new' : 'reused existing'} storage in ${kafka.dataDir}` +
      ` (cluster id ${broker.clusterId})`,
  );
  console.log(
    `Kafka ${KAFKA_VERSION}: broker pid ${broker.pid} answers on ${broker.brokers} after ` +
      `${secondsSince(brokerStartedAt)} (${secondsSince(startedAt)} in all); it keeps running ` +
      'in the background until `npm run services:down`',
  );
  console.log(`Kafka: log ${kafka.logFile}, pid file ${kafka.pidFile}`);

  if (missing.length > 0) {
    console.error(`Not ready: ${missing.join(' and ')} must be started as shown above.`);
    return 1;
  }
  return 0;
}

async function down(): Promise<number> {
  const kafka = localKafka();
  const pid = await readPid(kafka.pidFile);
  if (pid === undefined) {
    console.log(
      `No Kafka broker was started by services:up (no ${kafka.pidFile}); nothing to stop.`,
    );
    return 0;
  }
  switch (ourBroker(pid, kafka.cacheDir)) {
    case 'gone':
      console.log(
        `Kafka broker pid ${pid} had already exited; removed the stale ${kafka.pidFile}.`,
      );
      break;
    case 'other':
      console.log(
        `${kafka.pidFile} names pid ${pid}, which is no longer our Kafka broker (pid reused); ` +
          'left it alone and removed the stale pid file.',
      );
      break;
    case 'ours': {
      const stoppingAt = Date.now();
      await stopPid(pid);
      console.log(`Stopped the Kafka broker (pid ${pid}) in ${secondsSince(stoppingAt)}.`);
      break;
    }
  }
  await rm(kafka.pidFile, { force: true });
  console.log('MariaDB and Redis are system services and were left running.');
  return 0;
}

/** Where clients expect Kafka: the first KAFKA_BROKERS entry, else 127.0.0.1:9092. */
function kafkaTarget(): { brokers: string; port: number; local: boolean } {
  const first = (process.env.KAFKA_BROKERS ?? DEFAULT_BROKER).split(',')[0]?.trim() ?? '';
  const match = /^(.+):(\d+)$/.exec(first);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`KAFKA_BROKERS must start with host:port, got "${first}"`);
  }
  return {
    brokers: first,
    port,
    local: ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host),
  };
}

/**
 * Pids get reused, so before signalling the recorded pid we check that it still runs a broker
 * on a data folder of ours: of any release, so that `services:down` also stops a broker an
 * earlier release of this script started. Without /proc (not Linux) the pid file is all we have
 * to go on.
 */
function ourBroker(pid: number, cacheDir: string): 'ours' | 'other' | 'gone' {
  if (!processAlive(pid)) return 'gone';
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'ours';
  }
  const ownProperties = (arg: string) =>
    arg.startsWith(`${cacheDir}/`) && arg.endsWith('/server.properties');
  return args.includes('kafka.Kafka') && args.some(ownProperties) ? 'ours' : 'other';
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function secondsSince(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)} s`;
}

const commands: Record<string, () => Promise<number>> = { up, down };
const command = process.argv[2] ?? '';
const runCommand = commands[command];
if (runCommand === undefined) {
  console.error('usage: tsx scripts/services.ts up|down');
  process.exitCode = 2;
} else {
  runCommand().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(
        `services:${command} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exitCode = 1;
    },
  );
}
