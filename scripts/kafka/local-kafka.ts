/**
 * A real Apache Kafka broker for local runs and tests, without Docker: the broker's jars come from
 * Maven Central (see pom.xml beside this file) into a cache folder outside git, and each broker is
 * a single-node KRaft broker+controller JVM with its own ports and data folder. Nothing here is
 * global, so tests can start private brokers next to the shared one and kill them at will.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';

/** The release of `services:up`, the demo and the tests. */
export const KAFKA_VERSION = '4.4.0';
/** The 3.x release of the compatibility run (`npm run test:kafka-compat`). */
export const KAFKA_COMPAT_VERSION = '3.9.1';
export type KafkaVersion = typeof KAFKA_VERSION | typeof KAFKA_COMPAT_VERSION;

interface KafkaRelease {
  /** The pom that names the broker's jars for Maven. */
  pomFile: string;
  /** Kafka 4 logs through log4j2, 3.x through log4j 1.x (reload4j): each reads its own config. */
  logging: 'log4j2' | 'log4j1';
}

const RELEASES: Record<KafkaVersion, KafkaRelease> = {
  [KAFKA_VERSION]: { pomFile: join(__dirname, 'pom.xml'), logging: 'log4j2' },
  // Byte for byte the pom that fetched 3.9.1 before Kafka 4, so existing jar caches stay valid.
  [KAFKA_COMPAT_VERSION]: { pomFile: join(__dirname, 'pom-3.9.1.xml'), logging: 'log4j1' },
};

export type Log = (line: string) => void;

export interface KafkaJars {
  libsDir: string;
  jarCount: number;
  /** False when the cache was already complete. */
  fetched: boolean;
}

export interface StartBrokerOptions {
  /** KAFKA_VERSION unless given; its jars must be fetched first (ensureKafkaJars). */
  version?: KafkaVersion;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  heapMb?: number;
  /**
   * Override or add broker settings. After a SIGKILL the restarted controller refuses the new
   * broker until the dead one's session expires (broker.session.timeout.ms, 9 s by default), so
   * kill-and-restart tests may pass { 'broker.session.timeout.ms': '3000',
   * 'broker.heartbeat.interval.ms': '500' } to restart in ~6 s instead of ~15 s.
   */
  extraProperties?: Record<string, string>;
  startTimeoutMs?: number;
  /**
   * Adds a second listener, SASL_PLAINTEXT with SCRAM on `port`, and creates the user when the
   * storage is formatted (KRaft stores SCRAM credentials in its metadata log; a reused data folder
   * keeps the users it was formatted with). The PLAINTEXT listener stays for the broker itself.
   * Name and password must not contain `,`, `]` or `"` (the --add-scram syntax).
   */
  scram?: ScramListenerOptions;
}

export interface ScramListenerOptions {
  port: number;
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

export interface BrokerHandle {
  pid: number;
  /** Bootstrap list for clients, e.g. `127.0.0.1:9092`. */
  brokers: string;
  /** Bootstrap list of the SCRAM listener, when one was asked for. */
  scramBrokers: string | undefined;
  clusterId: string;
  /** True when this start formatted a new storage folder, false when it reused one. */
  formatted: boolean;
  /** Signals the broker and resolves once it has exited; SIGTERM escalates to SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const MARKER_FILE = 'fetched.json';
const DEFAULT_HEAP_MB = 512;
const DEFAULT_START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 30_000;
const KILL_WAIT_MS = 10_000;
const POLL_MS = 250;
const PROBE_TIMEOUT_MS = 2_000;
const LOG_TAIL_LINES = 40;
const JAVA_HINT = 'a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)';

export function kafkaCacheDir(): string {
  const explicit = process.env.CMS_SYNC_CACHE_DIR;
  if (explicit) return resolve(explicit);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'cms-sync');
}

/** One folder per release, so that brokers of two versions (and their jars) coexist. */
export function kafkaVersionDir(version: KafkaVersion = KAFKA_VERSION): string {
  return join(kafkaCacheDir(), `kafka-${version}`);
}

export function kafkaLibsDir(version: KafkaVersion = KAFKA_VERSION): string {
  return join(kafkaVersionDir(version), 'libs');
}

/** Fetches the broker's jars with Maven unless the cache already holds a complete set. */
export async function ensureKafkaJars(
  log: Log,
  version: KafkaVersion = KAFKA_VERSION,
): Promise<KafkaJars> {
  const libsDir = kafkaLibsDir(version);
  const { pomFile } = RELEASES[version];
  // The pom's hash is part of the marker so that editing the pom refetches instead of silently
  // running with the old jar set.
  const pomHash = createHash('sha256')
    .update(await readFile(pomFile))
    .digest('hex');
  const cached = await completeJarCount(libsDir, pomHash);
  if (cached !== undefined) return { libsDir, jarCount: cached, fetched: false };

  await requireTool('java', ['-version'], JAVA_HINT);
  await requireTool('mvn', ['-v'], 'Maven 3.8+ (Debian: apt-get install maven)');

  // Maven writes into a private folder that only replaces libs/ once complete, so an interrupted
  // fetch never leaves a half-filled libs/ that looks usable.
  const partialDir = `${libsDir}.partial-${process.pid}`;
  await rm(partialDir, { recursive: true, force: true });
  log(
    `fetching Kafka ${version} jars with Maven into ${libsDir} ` +
      "(a few minutes while Maven's own cache is cold)",
  );
  const mvn = await run('mvn', [
    '-q',
    '-B',
    '-f',
    pomFile,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${partialDir}`,
    '-DincludeScope=runtime',
  ]);
  if (mvn.code !== 0) {
    await rm(partialDir, { recursive: true, force: true });
    throw new Error(
      `Maven could not fetch the Kafka jars (exit ${mvn.code}):\n${tail(mvn.output)}`,
    );
  }
  const jars = (await readdir(partialDir)).filter((name) => name.endsWith('.jar')).sort();
  if (!jars.includes(`kafka_2.13-${version}.jar`)) {
    await rm(partialDir, { recursive: true, force: true });
    throw new Error(`Maven finished but ${partialDir} holds no kafka_2.13-${version}.jar`);
  }

  // Another process may have completed the same fetch meanwhile; keep its folder, it may be in use.
  const raced = await completeJarCount(libsDir, pomHash);
  if (raced !== undefined) {
    await rm(partialDir, { recursive: true, force: true });
    return { libsDir, jarCount: raced, fetched: true };
  }
  await rm(libsDir, { recursive: true, force: true });
  await rename(partialDir, libsDir);
  const marker: JarMarker = { pomSha256: pomHash, jars, fetchedAt: new Date().toISOString() };
  await writeFile(join(libsDir, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
  return { libsDir, jarCount: jars.length, fetched: true };
}

/**
 * Starts a single-node KRaft broker+controller and resolves once a client can talk to it.
 * Re-running on the same data folder reuses its storage (and so its topics and offsets).
 */
export async function startBroker(opts: StartBrokerOptions): Promise<BrokerHandle> {
  const version = opts.version ?? KAFKA_VERSION;
  const libsDir = kafkaLibsDir(version);
  if ((await completeJarCount(libsDir)) === undefined) {
    throw new Error(
      `Kafka ${version} jars are missing in ${libsDir}: call ensureKafkaJars() first`,
    );
  }
  await requireTool('java', ['-version'], JAVA_HINT);
  // A broker already listening there would answer our readiness probe while ours dies on bind.
  for (const port of [opts.port, opts.controllerPort, ...(opts.scram ? [opts.scram.port] : [])]) {
    if (await tcpAnswers('127.0.0.1', port, 1_000)) {
      throw new Error(`cannot start Kafka: 127.0.0.1:${port} is already in use`);
    }
  }

  const dataDir = resolve(opts.dataDir);
  const logFile = resolve(opts.logFile);
  const logDir = join(dataDir, 'logs');
  const propertiesFile = join(dataDir, 'server.properties');
  await mkdir(logDir, { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });

  const properties: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${opts.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${opts.port},CONTROLLER://127.0.0.1:${opts.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${opts.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    'offsets.topic.replication.factor': '1',
    // The default 50 partitions make the first consumer group wait for 50 log creations.
    'offsets.topic.num.partitions': '5',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '5',
    'default.replication.factor': '1',
    'num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    ...(opts.scram ? scramProperties(opts, opts.scram) : {}),
    ...opts.extraProperties,
  };
  await writeFile(propertiesFile, toPropertiesFile(properties));
  const javaBase = ['-cp', join(libsDir, '*'), await writeLoggingConfig(dataDir, version)];

  const { clusterId, formatted } = await ensureFormatted(
    dataDir,
    logDir,
    propertiesFile,
    javaBase,
    opts.scram,
  );

  const brokers = `127.0.0.1:${opts.port}`;
  const logStart = await appendLine(
    logFile,
    `--- ${new Date().toISOString()} starting Kafka ${version} on ${brokers}` +
      ` (data ${dataDir}) ---`,
  );
  const heapMb = opts.heapMb ?? DEFAULT_HEAP_MB;
  const child = spawnDetached(
    'java',
    [`-Xms${heapMb}m`, `-Xmx${heapMb}m`, ...javaBase, 'kafka.Kafka', propertiesFile],
    dataDir,
    logFile,
  );
  const exited = new Promise<string>((settle) => {
    child.once('exit', (code, signal) => settle(signal ? `signal ${signal}` : `exit ${code}`));
    child.once('error', (error) => settle(`spawn error: ${error.message}`));
  });
  let exitReason: string | undefined;
  void exited.then((reason) => {
    exitReason = reason;
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not start java: ${await exited}`);
  }

  const isGone = (): boolean => exitReason !== undefined;
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exitReason !== undefined) {
      throw new Error(
        `Kafka (pid ${pid}) ended before answering (${exitReason}); last lines of ${logFile}:\n` +
          (await logTail(logFile, logStart)),
      );
    }
    if (await brokerAnswers(brokers, PROBE_TIMEOUT_MS)) break;
    if (Date.now() > deadline) {
      await terminate(pid, 'SIGKILL', isGone);
      throw new Error(
        `Kafka (pid ${pid}) did not answer on ${brokers} within ${startTimeoutMs} ms; ` +
          `last lines of ${logFile}:\n${await logTail(logFile, logStart)}`,
      );
    }
    await sleep(POLL_MS);
  }

  return {
    pid,
    brokers,
    scramBrokers: opts.scram ? `127.0.0.1:${opts.scram.port}` : undefined,
    clusterId,
    formatted,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => terminate(pid, signal, isGone),
  };
}

/** Stops a broker known only by pid (e.g. one started by an earlier `services:up`). */
export function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return terminate(pid, signal, () => !processAlive(pid));
}

/** Whether a process with this pid exists and has not yet exited. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
  // An exited child whose parent never reaps it (orphans here are re-parented to a PID 1 that is
  // not an init) still accepts signal 0, yet it is gone for every purpose of ours.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z';
  } catch {
    return true;
  }
}

/** Answers whether a Kafka cluster at `brokers` responds to a metadata request within timeoutMs. */
export async function brokerAnswers(brokers: string, timeoutMs: number): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'cms-sync-local-kafka-probe',
    brokers: brokers.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });
  const probe = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    // A fenced broker answers but is not listed: it cannot host partitions yet.
    return cluster.brokers.length > 0;
  })().catch(() => false);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((settle) => {
    timer = setTimeout(() => settle(false), timeoutMs);
  });
  try {
    return await Promise.race([probe, timedOut]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Whether something accepts TCP connections on host:port. */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((settle) => {
    const socket = connect({ host, port });
    const finish = (answered: boolean): void => {
      socket.destroy();
      settle(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

interface JarMarker {
  pomSha256: string;
  jars: string[];
  fetchedAt: string;
}

function isJarMarker(value: unknown): value is JarMarker {
  if (typeof value !== 'object' || value === null) return false;
  const { pomSha256, jars, fetchedAt } = value as Record<string, unknown>;
  return (
    typeof pomSha256 === 'string' &&
    typeof fetchedAt === 'string' &&
    Array.isArray(jars) &&
    jars.every((jar) => typeof jar === 'string')
  );
}

/** The jar count when libsDir holds a finished fetch (of this pom, if a hash is given). */
async function completeJarCount(libsDir: string, pomHash?: string): Promise<number | undefined> {
  let parsed: unknown;
  let present: string[];
  try {
    parsed = JSON.parse(await readFile(join(libsDir, MARKER_FILE), 'utf8'));
    present = await readdir(libsDir);
  } catch {
    return undefined;
  }
  if (!isJarMarker(parsed)) return undefined;
  if (pomHash !== undefined && parsed.pomSha256 !== pomHash) return undefined;
  const have = new Set(present);
  return parsed.jars.every((jar) => have.has(jar)) ? parsed.jars.length : undefined;
}

/**
 * Writes the broker's logging config and returns the JVM option that points to it. The broker's
 * stdout already goes to the log file; a file appender on the same file would interleave with
 * it, so both configs write to stdout.
 */
async function writeLoggingConfig(dataDir: string, version: KafkaVersion): Promise<string> {
  const pattern = '[%d] %p %m (%c)%n';
  if (RELEASES[version].logging === 'log4j1') {
    const file = join(dataDir, 'log4j.properties');
    await writeFile(
      file,
      toPropertiesFile({
        'log4j.rootLogger': 'WARN, stdout',
        'log4j.appender.stdout': 'org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout': 'org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern': pattern,
      }),
    );
    return `-Dlog4j.configuration=file:${file}`;
  }
  const file = join(dataDir, 'log4j2.properties');
  await writeFile(
    file,
    toPropertiesFile({
      // log4j2's own status logger: only its problems with this file, not every step.
      status: 'warn',
      'appender.stdout.type': 'Console',
      'appender.stdout.name': 'STDOUT',
      'appender.stdout.layout.type': 'PatternLayout',
      'appender.stdout.layout.pattern': pattern,
      'rootLogger.level': 'warn',
      'rootLogger.appenderRef.stdout.ref': 'STDOUT',
    }),
  );
  return `-Dlog4j2.configurationFile=${file}`;
}

/** The broker settings of the second, SCRAM-protected listener. */
function scramProperties(
  opts: StartBrokerOptions,
  scram: ScramListenerOptions,
): Record<string, string> {
  const { port, mechanism } = scram;
  const plain = `PLAINTEXT://127.0.0.1:${opts.port}`;
  const sasl = `SASL_PLAINTEXT://127.0.0.1:${port}`;
  return {
    listeners: `${plain},${sasl},CONTROLLER://127.0.0.1:${opts.controllerPort}`,
    'advertised.listeners': `${plain},${sasl}`,
    'listener.security.protocol.map':
      'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms': mechanism,
    [`listener.name.sasl_plaintext.${mechanism.toLowerCase()}.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  };
}

async function ensureFormatted(
  dataDir: string,
  logDir: string,
  propertiesFile: string,
  javaBase: string[],
  scram: ScramListenerOptions | undefined,
): Promise<{ clusterId: string; formatted: boolean }> {
  // The id is kept beside the storage so that a format interrupted half way is retried with the
  // same id rather than leaving files that claim two different clusters.
  const clusterIdFile = join(dataDir, 'cluster.id');
  let clusterId = (await readFile(clusterIdFile, 'utf8').catch(() => '')).trim();
  if (!clusterId) {
    clusterId = newClusterId();
    await writeFile(clusterIdFile, `${clusterId}\n`);
  }
  if (await exists(join(logDir, 'meta.properties'))) return { clusterId, formatted: false };

  const format = await run('java', [
    ...javaBase,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
    ...(scram
      ? ['--add-scram', `${scram.mechanism}=[name=${scram.username},password=${scram.password}]`]
      : []),
  ]);
  if (format.code !== 0) {
    throw new Error(
      `formatting Kafka storage in ${logDir} failed (exit ${format.code}):\n${tail(format.output)}`,
    );
  }
  return { clusterId, formatted: true };
}

/** Same shape as Kafka's Uuid.randomUuid(): 16 random bytes, URL-safe base64 without padding. */
function newClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    // Kafka rejects ids that start with '-', as a command line would read them as an option.
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Detached (own session and process group, output to a file, not waited for) so the process
 * outlives the CLI that started it and a Ctrl-C in that terminal does not reach it.
 */
function spawnDetached(
  command: string,
  args: string[],
  cwd: string,
  logFile: string,
): ChildProcess {
  const logFd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', logFd, logFd] });
    child.unref();
    return child;
  } finally {
    closeSync(logFd);
  }
}

async function terminate(
  pid: number,
  signal: NodeJS.Signals,
  isGone: () => boolean,
): Promise<void> {
  if (isGone()) return;
  sendSignal(pid, signal);
  if (signal === 'SIGKILL') {
    if (await waitUntil(isGone, KILL_WAIT_MS)) return;
    throw new Error(`process ${pid} is still there ${KILL_WAIT_MS} ms after SIGKILL`);
  }
  if (await waitUntil(isGone, STOP_GRACE_MS)) return;
  sendSignal(pid, 'SIGKILL');
  if (await waitUntil(isGone, KILL_WAIT_MS)) return;
  throw new Error(
    `process ${pid} ignored ${signal} and is still there ${KILL_WAIT_MS} ms after SIGKILL`,
  );
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (errnoCode(error) !== 'ESRCH') throw error;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function requireTool(command: string, versionArgs: string[], what: string): Promise<void> {
  try {
    await run(command, versionArgs);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new Error(`\`${command}\` is not on PATH: the local Kafka broker needs ${what}`);
    }
    throw error;
  }
}

/** Runs a command to completion with stdout and stderr merged; rejects only if it cannot start. */
function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((settle, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', fail);
    child.once('close', (code) =>
      settle({ code: code ?? -1, output: Buffer.concat(chunks).toString('utf8') }),
    );
  });
}

function toPropertiesFile(properties: Record<string, string>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value.replaceAll('\\', '\\\\')}\n`)
    .join('');
}

/** Appends a line and returns the file's size before it, i.e. where this run's output starts. */
async function appendLine(file: string, line: string): Promise<number> {
  const handle = await open(file, 'a');
  try {
    const { size } = await handle.stat();
    await handle.write(`${line}\n`);
    return size;
  } finally {
    await handle.close();
  }
}

async function logTail(file: string, from: number): Promise<string> {
  const text = await readFile(file)
    .then((content) => content.subarray(from).toString('utf8'))
    .catch(() => '');
  return tail(text) || '(the log is empty)';
}

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
