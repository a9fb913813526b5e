/**
 * `npm run bench`: issue 5's benchmark. For each mode, one after another so the ratios hold on
 * a noisy machine: a fresh database, fresh topics and group; N events pre-produced; the
 * consumer started and measured until the group's lag is 0; the end state checked against the
 * events; then a steady-rate latency run. Prints a markdown table and appends the run to
 * bench/results/<date>.json. See bench/README.md.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { type Connection, createConnection } from 'mysql2/promise';
import { parseConfig } from '../src/config/app-config';
import { cacheKey } from '../src/idempotency/processed-event-cache.repository';
import { unlinkMatching } from '../src/idempotency/unlink-matching';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';
import { runCommand } from '../scripts/run-command';
import { BenchKafka, type BenchMessage, type ProduceTimes } from './bench-kafka';
import { CommitProbe, type TimedSample } from './commit-probe';
import { EventLoopDelayMonitor } from './event-loop-delay-monitor';
import { checkEndState } from './end-state';
import { describeMachine, machineLine } from './machine';
import {
  type BenchRun,
  type CacheFigures,
  type GcFigures,
  type LatencyResult,
  type LatencyWindow,
  markdownTable,
  type ModeResult,
  saveRun,
  summarize,
} from './report';
import { globalStatus, RunMonitor } from './run-monitor';
import { type CeilingSettings, consumerCeiling, dbCeiling } from './ceilings';
import { SinkProcess, StartFailedError, databaseServerPid, freePort } from './sink-process';
import { type BenchEvent, EventStream } from './stream';

const BROKERS = '127.0.0.1:9092';
const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const REDIS = { host: '127.0.0.1', port: 6379 };
const ROOT = resolve(__dirname, '..');
const RESULTS_DIR = resolve(ROOT, 'bench/results');
const PROFILES_DIR = resolve(RESULTS_DIR, 'profiles');
const MODES = ['consumer-ceiling', 'db-ceiling', 'naive', 'event', 'batch'] as const;
type Mode = (typeof MODES)[number];
/** A run whose lag has not moved for this long is reported as stalled. */
const STALL_MS = 60_000;
/** Latency input is sent in ticks of this length, catching up if a send ran late. */
const TICK_MS = 10;
/** Behind by more than this many seconds of input when producing ends: cannot keep up. */
const KEEP_UP_SECONDS = 2;
const DRAIN_DEADLINE_MS = 30_000;

interface Options {
  events: number;
  modes: Mode[];
  latency: boolean;
  latencySeconds: number;
  latencyRate: number;
  latencyRateEvent: number;
  partitions: number;
  concurrency: number;
  poolSize: number;
  batchMaxEvents: number | undefined;
  profile: boolean;
  build: boolean;
  keep: boolean;
  quick: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --events N               events to pre-produce per mode (default 200000; --quick 5000)
  --modes a,b              of consumer-ceiling,db-ceiling,naive,event,batch (default all, in that order)
  --no-latency             skip the steady-rate latency run
  --latency-seconds S      length of the latency run (default 60; --quick 5)
  --latency-rate R         events/s of the latency run of batch and naive (default 2000; --quick 500)
  --latency-rate-event R   events/s of event mode's latency run (default 1000; --quick 250)
  --partitions P           partitions per topic (default 6)
  --partitions-concurrency KAFKA_PARTITIONS_CONCURRENCY (default 3)
  --pool-size N            DB_CONNECTION_POOL_SIZE (default 5)
  --batch-max-events N     SYNC_BATCH_MAX_EVENTS for batch mode (default: the service's)
  --profile                run consumers with --cpu-prof into bench/results/profiles/<run>_<mode>
  --no-build               use dist/ as it is (by default npm run build runs when src/ is newer)
  --keep                   keep the databases, topics and Redis keys afterwards
  --quick                  a small run that finishes in about a minute`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`--${name}: "${raw}" is not a positive integer`);
  return value;
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        events: { type: 'string' },
        modes: { type: 'string' },
        latency: { type: 'boolean' },
        'no-latency': { type: 'boolean' },
        'latency-seconds': { type: 'string' },
        'latency-rate': { type: 'string' },
        'latency-rate-event': { type: 'string' },
        partitions: { type: 'string' },
        'partitions-concurrency': { type: 'string' },
        'pool-size': { type: 'string' },
        'batch-max-events': { type: 'string' },
        profile: { type: 'boolean' },
        'no-build': { type: 'boolean' },
        keep: { type: 'boolean' },
        quick: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = parsed.quick === true;
  const modes = (parsed.modes ?? MODES.join(',')).split(',').map((m) => m.trim());
  for (const mode of modes) {
    if (!(MODES as readonly string[]).includes(mode)) fail(`--modes: unknown mode "${mode}"`);
  }
  return {
    events: positive('events', parsed.events, quick ? 5000 : 200_000),
    modes: modes as Mode[],
    latency: parsed['no-latency'] !== true,
    latencySeconds: positive('latency-seconds', parsed['latency-seconds'], quick ? 5 : 60),
    latencyRate: positive('latency-rate', parsed['latency-rate'], quick ? 500 : 2000),
    // Issue 9 sets event mode's latency target at 1,000 events/s, batch mode's at 2,000.
    latencyRateEvent: positive(
      'latency-rate-event',
      parsed['latency-rate-event'],
      quick ? 250 : 1000,
    ),
    partitions: positive('partitions', parsed.partitions, 6),
    concurrency: positive('partitions-concurrency', parsed['partitions-concurrency'], 3),
    poolSize: positive('pool-size', parsed['pool-size'], 5),
    batchMaxEvents:
      parsed['batch-max-events'] === undefined
        ? undefined
        : positive('batch-max-events', parsed['batch-max-events'], 500),
    profile: parsed.profile === true,
    build: parsed['no-build'] !== true,
    keep: parsed.keep === true,
    quick,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** processed_at as written by the consumer: DATETIME(3) in UTC, read with dateStrings. */
const utcMillis = (datetime: string) => Date.parse(`${datetime.replace(' ', 'T')}Z`);

const scrapeMetrics = async (port: number): Promise<string> =>
  (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** The values of one metric in a /metrics text, by their label text. */
function metricValues(text: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    values.set(match[1] ?? '', Number(match[2]));
  }
  return values;
}

/** A metric's values in `after` less those in `before` (none before: all of `after`), by labels. */
function metricDelta(before: string, after: string, name: string): Map<string, number> {
  const was = metricValues(before, name);
  const delta = new Map<string, number>();
  for (const [labels, value] of metricValues(after, name)) {
    delta.set(labels, value - (was.get(labels) ?? 0));
  }
  return delta;
}

/** Redis lookups between two scrapes (from the service's start when `before` is empty). */
function cacheFigures(after: string, before = ''): CacheFigures {
  const totals = metricDelta(before, after, 'sync_idempotency_cache_total');
  const value = (result: string) =>
    [...totals].reduce((n, [labels, v]) => (labels.includes(`result="${result}"`) ? n + v : n), 0);
  const hits = value('hit');
  const misses = value('miss');
  return { hits, misses, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
}

/**
 * The service's collections between two scrapes, from prom-client's GC histogram; its event-loop
 * delay maximum is reset at every scrape, so the second scrape's covers the span between them.
 */
function gcFigures(before: string, after: string): GcFigures {
  const kindOf = (labels: string) => /kind="([^"]+)"/.exec(labels)?.[1] ?? '';
  const delta = (name: string) => metricDelta(before, after, name);
  const byKind: GcFigures['byKind'] = {};
  const seconds = delta('nodejs_gc_duration_seconds_sum');
  for (const [labels, count] of delta('nodejs_gc_duration_seconds_count')) {
    byKind[kindOf(labels)] = { count, seconds: seconds.get(labels) ?? 0 };
  }
  let atLeast10Ms = 0;
  for (const [labels, count] of delta('nodejs_gc_duration_seconds_bucket')) {
    if (labels.includes('le="0.01"')) atLeast10Ms -= count;
    if (labels.includes('le="+Inf"')) atLeast10Ms += count;
  }
  const lagMax = metricValues(after, 'nodejs_eventloop_lag_max_seconds').get('') ?? 0;
  return { byKind, atLeast10Ms, eventLoopDelayMaxMs: Math.round(lagMax * 1000) };
}

/** The latency run's input: its rate, its messages, and the end state once they are applied. */
interface LatencyInput {
  readonly rate: number;
  readonly messages: readonly BenchMessage[];
  readonly reference: ReadonlyMap<string, BenchEvent>;
}

/** Latency figures per 10 s of the run, by the time each sample started. */
function latencyWindows(samples: readonly TimedSample[], start: number): LatencyWindow[] {
  const bySecond = new Map<number, number[]>();
  for (const { at, ms } of samples) {
    const from = Math.floor((at - start) / 10_000) * 10;
    const list = bySecond.get(from) ?? [];
    list.push(ms);
    bySecond.set(from, list);
  }
  return [...bySecond]
    .sort(([a], [b]) => a - b)
    .map(([fromSecond, list]): LatencyWindow => {
      const { p50Ms, p99Ms, maxMs } = summarize(list);
      return { fromSecond, measured: list.length, p50Ms, p99Ms, maxMs: Math.round(maxMs ?? 0) };
    });
}

/** One mode, from a fresh database and topics to its figures; never throws. */
class ModeRun {
  private readonly runTag: string;
  private readonly database: string;
  private readonly kafka: BenchKafka;
  /** Starts every event id of this mode, so that its Redis keys are its own. */
  private readonly modeSalt = randomBytes(4).toString('hex');
  private readonly result: ModeResult;
  private sink: SinkProcess | undefined;
  private httpPort = 0;
  private benchDb: Connection | undefined;

  constructor(
    private readonly mode: Mode,
    private readonly options: Options,
    runId: string,
    private readonly admin: Connection,
  ) {
    this.runTag = `${runId}_${mode}`;
    this.database = `cms_sync_bench_${this.runTag}`;
    const prefix = `bench.${runId}.${mode}`;
    this.kafka = new BenchKafka(
      BROKERS,
      {
        product: `${prefix}.product.changed`,
        customer: `${prefix}.customer.changed`,
        order: `${prefix}.order.changed`,
      },
      `bench-${runId}-${mode}`,
      this.modeSalt,
    );
    this.result = { mode, status: 'ok', events: options.events };
  }

  async run(): Promise<ModeResult> {
    try {
      await this.measure();
    } catch (err) {
      if (err instanceof StartFailedError) {
        this.result.status = 'did not start';
        this.result.error = err.message;
      } else {
        this.result.status = this.result.status === 'ok' ? 'error' : this.result.status;
        this.result.error = err instanceof Error ? err.message : String(err);
      }
      log(`${this.mode}: ${this.result.status}: ${this.result.error}`);
    } finally {
      await this.cleanUp();
    }
    return this.result;
  }

  private async measure(): Promise<void> {
    const { options, result } = this;
    const env = {
      ...process.env,
      KAFKA_BROKERS: BROKERS,
      KAFKA_GROUP_ID: this.kafka.groupId,
      KAFKA_TOPIC_PRODUCT: this.kafka.topics.product,
      KAFKA_TOPIC_CUSTOMER: this.kafka.topics.customer,
      KAFKA_TOPIC_ORDER: this.kafka.topics.order,
      KAFKA_PARTITIONS_CONCURRENCY: String(options.concurrency),
      DB_HOST: DB.host,
      DB_PORT: String(DB.port),
      DB_USERNAME: DB.user,
      DB_PASSWORD: DB.password,
      DB_DATABASE: this.database,
      DB_CONNECTION_POOL_SIZE: String(options.poolSize),
      DB_MIGRATIONS_RUN: 'false',
      REDIS_HOST: REDIS.host,
      REDIS_PORT: String(REDIS.port),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...(options.batchMaxEvents === undefined
        ? {}
        : { SYNC_BATCH_MAX_EVENTS: String(options.batchMaxEvents) }),
    };

    log(`${this.mode}: database ${this.database}, topics ${this.kafka.topics.product} …`);
    const dataSource = await openDataSource({
      ...dataSourceOptions(
        parseConfig({
          DB_HOST: DB.host,
          DB_PORT: String(DB.port),
          DB_USERNAME: DB.user,
          DB_PASSWORD: DB.password,
          DB_DATABASE: this.database,
        }).db,
      ),
      migrationsRun: true,
      // The service's logger would print every migration step into the bench's output.
      logger: 'simple-console',
      logging: false,
    });
    await dataSource.destroy();
    await this.kafka.createTopics(options.partitions);
    const { reference, latencyInput } = await this.produceLoad();

    // The machine's own statement rate for a second, to judge the counters below by.
    const idleBefore = await globalStatus(this.admin);
    await sleep(1000);
    const idleAfter = await globalStatus(this.admin);
    result.backgroundStatementsPerSecond = idleAfter.Questions - idleBefore.Questions - 1;

    const statusBefore = await globalStatus(this.admin);
    const startedAt = Date.now();
    this.sink = await this.spawn(env);
    const monitor = new RunMonitor(
      this.admin,
      this.database,
      this.sink,
      await databaseServerPid(this.admin),
    );
    monitor.start();
    try {
      await this.sink.waitReady(() => this.isReady());
      log(`${this.mode}: started (pid ${this.sink.pid}); waiting for lag 0`);
      const lagZeroAt = await this.waitForLagZero(options.events);
      result.cpuSecondsTotal = this.sink.cpuSeconds();
      result.peakRssMb = this.sink.peakRssMb();
      if (this.mode !== 'naive') result.redis = cacheFigures(await scrapeMetrics(this.httpPort));
      else result.redis = null;
      await monitor.stop();
      const statusAfter = await globalStatus(this.admin);
      const own = monitor.ownStatements + 1;
      const counters = { ...statusAfter };
      for (const key of Object.keys(counters) as (keyof typeof counters)[]) {
        counters[key] = statusAfter[key] - statusBefore[key];
      }
      counters.Questions -= own;
      counters.Com_select -= monitor.ownStatements;
      result.statementCounters = counters;
      result.statementsPerEvent = counters.Questions / options.events;
      result.peakDbConnections = { ...monitor.peaks };

      // Opened only now: while the monitor counted connections to the database it was not one.
      this.benchDb = await createConnection({
        ...DB,
        database: this.database,
        dateStrings: true,
        supportBigNumbers: true,
      });

      const [rows] = await this.benchDb.query(
        'SELECT MIN(processed_at) AS first, MAX(processed_at) AS last FROM processed_events',
      );
      const span = (rows as { first: string | null; last: string | null }[])[0];
      if (span?.first && span.last) {
        const first = utcMillis(span.first);
        const last = utcMillis(span.last);
        result.eventsPerSecond = options.events / Math.max(0.001, (last - first) / 1000);
        result.eventsPerSecondToLagZero =
          options.events / Math.max(0.001, (lagZeroAt - first) / 1000);
        result.cpuSeconds = monitor.cpuBetween(first, lagZeroAt);
        result.mariadbCpuSeconds = monitor.dbCpuBetween(first, lagZeroAt);
      }
      result.secondsFromStartToLagZero = (lagZeroAt - startedAt) / 1000;
      result.endState = await checkEndState(this.benchDb, reference);
      log(
        `${this.mode}: lag 0; ${result.eventsPerSecond?.toFixed(0)} events/s; end state ${result.endState.ok ? 'ok' : 'FAILED'}`,
      );
      if (latencyInput) result.latency = await this.latencyRun(latencyInput);
    } finally {
      await monitor.stop();
    }
  }

  private async spawn(env: NodeJS.ProcessEnv): Promise<SinkProcess> {
    const profile = this.options.profile
      ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILES_DIR, this.runTag)]
      : [];
    if (this.mode === 'naive') {
      return SinkProcess.spawn(
        [...profile, '--import', 'tsx', resolve(ROOT, 'bench/naive-sink.ts')],
        env,
      );
    }
    this.httpPort = await freePort();
    return SinkProcess.spawn([...profile, resolve(ROOT, 'dist/main.js')], {
      ...env,
      SYNC_MODE: this.mode,
      HTTP_PORT: String(this.httpPort),
    });
  }

  private async isReady(): Promise<boolean> {
    if (this.mode === 'naive') return this.sink?.printed('naive sink: consuming') ?? false;
    return (await fetch(`http://127.0.0.1:${this.httpPort}/health`)).ok;
  }

  /** Polls the group's lag; throws when the consumer exits or the lag stops moving. */
  private async waitForLagZero(total: number): Promise<number> {
    let lastLag = total;
    let lastChange = Date.now();
    let lastLog = Date.now();
    for (;;) {
      if (this.sink && !this.sink.running) {
        throw new Error(`the consumer exited: ${this.sink.tail()}`);
      }
      const lag = await this.kafka.lag();
      const now = Date.now();
      if (lag === 0) return now;
      if (lag !== lastLag) {
        lastLag = lag;
        lastChange = now;
      } else if (now - lastChange > STALL_MS) {
        this.result.status = 'stalled';
        throw new Error(`lag stuck at ${lag} for ${STALL_MS / 1000} s`);
      }
      if (now - lastLog > 10_000) {
        log(`${this.mode}: lag ${lag}`);
        lastLog = now;
      }
      await sleep(200);
    }
  }

  /**
   * Generates the stream, the load and then the latency run's slice, and produces the load;
   * returns the end state each must leave. Only that and the slice's messages outlive this: the
   * stream's history and the load's events kept more than 300 MB live in the bench during the
   * latency run, which shares the two cores with what it measures (about 95 MB now).
   */
  private async produceLoad(): Promise<{
    reference: ReadonlyMap<string, BenchEvent>;
    latencyInput?: LatencyInput;
  }> {
    const { options, result } = this;
    const stream = new EventStream(options.events);
    const events = stream.next(options.events);
    const reference = new Map(stream.reference());
    const produceStart = Date.now();
    await this.kafka.produce(events);
    result.produceSeconds = (Date.now() - produceStart) / 1000;
    log(
      `${this.mode}: produced ${events.length} events (${stream.counts.duplicate} duplicates, ${stream.counts.stale} stale) in ${result.produceSeconds.toFixed(1)} s`,
    );
    if (!options.latency) return { reference };
    const rate = this.mode === 'event' ? options.latencyRateEvent : options.latencyRate;
    const messages = this.kafka.messages(stream.next(rate * options.latencySeconds));
    return { reference, latencyInput: { rate, messages, reference: stream.reference() } };
  }

  /** A steady input at the latency rate with the consumer caught up; produce-to-commit times. */
  private async latencyRun(input: LatencyInput): Promise<LatencyResult> {
    const { latencySeconds: seconds } = this.options;
    const { rate, messages } = input;
    const total = messages.length;
    const times: ProduceTimes = { sentAt: new Map(), appendedAt: new Map(), appendSpreadMs: 0 };
    log(`${this.mode}: latency run, ${rate} events/s for ${seconds} s`);
    const metricsBefore = this.mode === 'naive' ? undefined : await scrapeMetrics(this.httpPort);
    const start = Date.now();
    const probe = await CommitProbe.start({ ...DB, database: this.database });
    const benchDelay = new EventLoopDelayMonitor();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
      if (due > sent) {
        await this.kafka.send(messages.slice(sent, due), times);
        sent = due;
      }
      await sleep(TICK_MS);
    }
    await probe.stop();
    benchDelay.stop();
    const lagAfterProducing = await this.kafka.lag();
    const result: LatencyResult = {
      rate,
      seconds,
      produced: total,
      measured: 0,
      keptUp: lagAfterProducing <= rate * KEEP_UP_SECONDS,
      lagAfterProducing,
      commitProbe: latencyWindows(probe.samples, start),
      benchEventLoopDelay: latencyWindows(benchDelay.samples, start),
    };
    if (!result.keptUp) return result;
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    while ((await this.kafka.lag()) > 0) {
      if (Date.now() > deadline || !this.sink?.running) {
        result.keptUp = false;
        return result;
      }
      await sleep(200);
    }
    const db = this.benchDb;
    if (!db) throw new Error('no database connection');
    const [rows] = await db.query(
      'SELECT event_id, processed_at FROM processed_events WHERE processed_at >= ?',
      [new Date(start - 1000).toISOString().slice(0, 23).replace('T', ' ')],
    );
    const samples: TimedSample[] = [];
    const produceLeg: number[] = [];
    const serviceLeg: TimedSample[] = [];
    for (const row of rows as { event_id: string; processed_at: string }[]) {
      const sentTime = times.sentAt.get(row.event_id);
      if (sentTime === undefined) continue;
      const processed = utcMillis(row.processed_at);
      samples.push({ at: sentTime, ms: processed - sentTime });
      const appended = times.appendedAt.get(row.event_id);
      if (appended !== undefined) {
        produceLeg.push(appended - sentTime);
        serviceLeg.push({ at: sentTime, ms: processed - appended });
      }
    }
    if (metricsBefore !== undefined) {
      const metricsAfter = await scrapeMetrics(this.httpPort);
      result.redis = cacheFigures(metricsAfter, metricsBefore);
      result.serviceGc = gcFigures(metricsBefore, metricsAfter);
    }
    result.windows = latencyWindows(samples, start);
    if (serviceLeg.length > 0) {
      result.legs = {
        produce: summarize(produceLeg),
        service: summarize(serviceLeg.map((sample) => sample.ms)),
        appendSpreadMaxMs: times.appendSpreadMs,
      };
      result.serviceWindows = latencyWindows(serviceLeg, start);
    }
    result.measured = samples.length;
    Object.assign(result, summarize(samples.map((sample) => sample.ms)));
    result.endState = await checkEndState(db, input.reference);
    log(
      `${this.mode}: latency p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms over ${result.measured} events; end state ${result.endState.ok ? 'ok' : 'FAILED'}`,
    );
    const perWindow = (windows: readonly LatencyWindow[], cell: (w: LatencyWindow) => string) =>
      windows.map((w) => `${w.fromSecond}s ${cell(w)}`).join(', ');
    log(
      `${this.mode}: p99/max ms per 10 s of input: ${perWindow(result.windows, (w) => `${w.p99Ms}/${w.maxMs}`)}`,
    );
    if (result.legs) {
      const { produce, service, appendSpreadMaxMs } = result.legs;
      log(
        `${this.mode}: split where the broker appended each event (to within ${appendSpreadMaxMs} ms): handed to the producer → appended p50/p99/max ${produce.p50Ms}/${produce.p99Ms}/${produce.maxMs} ms, appended → processed_at ${service.p50Ms}/${service.p99Ms}/${service.maxMs} ms; the latter's p99/max per 10 s: ${perWindow(result.serviceWindows ?? [], (w) => `${w.p99Ms}/${w.maxMs}`)}`,
      );
    }
    log(
      `${this.mode}: a probe commit every 100 ms, p99/max ms per 10 s: ${perWindow(result.commitProbe ?? [], (w) => `${w.p99Ms?.toFixed(1)}/${w.maxMs}`)}`,
    );
    log(
      `${this.mode}: the bench's own event-loop delay, max ms per 10 s: ${perWindow(result.benchEventLoopDelay ?? [], (w) => `${w.maxMs}`)}`,
    );
    if (result.serviceGc) {
      const gc = result.serviceGc;
      log(
        `${this.mode}: service GC during the run: ${Object.entries(gc.byKind)
          .map(([kind, k]) => `${k.count} ${kind} (${Math.round(k.seconds * 1000)} ms)`)
          .join(
            ', ',
          )}; ${gc.atLeast10Ms} of 10 ms or more; event-loop delay at most ${gc.eventLoopDelayMaxMs} ms`,
      );
    }
    return result;
  }

  private async cleanUp(): Promise<void> {
    if (this.sink) {
      const exit = await this.sink.stop();
      this.result.exit = exit ? `${exit.code ?? exit.signal}` : undefined;
      this.result.outputBytes = this.sink.outputBytes;
      this.result.outputTail = this.sink.tail();
    }
    await this.benchDb?.end().catch(() => undefined);
    await this.kafka.close(!this.options.keep).catch((err: unknown) => {
      log(`${this.mode}: topic clean-up failed: ${String(err)}`);
    });
    if (!this.options.keep) {
      await this.admin.query(`DROP DATABASE IF EXISTS \`${this.database}\``);
      await this.removeCacheKeys().catch((err: unknown) => {
        log(`${this.mode}: Redis clean-up failed: ${String(err)}`);
      });
    }
  }

  /** The mode's idempotency keys: left behind, every run would grow the shared Redis for days. */
  private async removeCacheKeys(): Promise<void> {
    const redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await unlinkMatching(redis, `${cacheKey(this.modeSalt)}-*`, 1000);
    } finally {
      redis.disconnect();
    }
  }
}

/** tsc rewrites every output on a build, so dist/main.js is as old as the last build. */
function distIsStale(): boolean {
  const main = resolve(ROOT, 'dist/main.js');
  if (!existsSync(main)) return true;
  const builtAt = statSync(main).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return newer(path);
      return (
        entry.name.endsWith('.ts') &&
        !entry.name.endsWith('.spec.ts') &&
        statSync(path).mtimeMs > builtAt
      );
    });
  return newer(resolve(ROOT, 'src'));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const runId = `${startedAt.slice(0, 10).replace(/-/g, '')}_${randomBytes(3).toString('hex')}`;
  const admin = await createConnection({ ...DB });
  const machine = await describeMachine(admin, REDIS);
  log(machineLine(machine));

  if (options.build && options.modes.some((m) => m !== 'naive') && distIsStale()) {
    log('npm run build');
    if ((await runCommand('npm', ['run', '--silent', 'build'])) !== 0) {
      throw new Error('npm run build failed');
    }
  }

  const ceilings: CeilingSettings = {
    brokers: BROKERS,
    db: DB,
    root: ROOT,
    runId,
    events: options.events,
    partitions: options.partitions,
    concurrency: options.concurrency,
    batchMaxEvents: options.batchMaxEvents ?? parseConfig({}).sync.batchMaxEvents,
    keep: options.keep,
  };
  const results: ModeResult[] = [];
  for (const mode of options.modes) {
    if (mode === 'consumer-ceiling') {
      log('consumer-ceiling: kafkajs eachBatch, no-op and JSON.parse');
      results.push(await consumerCeiling(ceilings, false), await consumerCeiling(ceilings, true));
    } else if (mode === 'db-ceiling') {
      log('db-ceiling: the unit of work replayed from memory');
      for (const connections of [1, options.concurrency]) {
        results.push(await dbCeiling(ceilings, admin, connections, ceilings.batchMaxEvents));
      }
      results.push(await dbCeiling(ceilings, admin, options.concurrency, 1));
    } else {
      results.push(await new ModeRun(mode, options, runId, admin).run());
    }
    const last = results.at(-1);
    if (last && mode.endsWith('ceiling')) {
      log(`${last.mode}: ${last.eventsPerSecond?.toFixed(0)} events/s ${last.error ?? ''}`);
    }
  }
  await admin.end();

  const run: BenchRun = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { ...options },
    machine,
    modes: results,
    notes: [
      "statements/event: the server-wide Questions counter over the run (minus the bench's own polls) divided by the events; other clients of the shared MariaDB add to it — see backgroundStatementsPerSecond.",
      "CPU s: the consumer process's utime+stime from its first commit to lag 0; peak RSS: its VmHWM.",
      'latency: processed_events.processed_at (taken in the transaction, before its commit) minus the time the bench handed the event to the producer; duplicates are not recorded and so not measured.',
    ],
  };
  const path = saveRun(RESULTS_DIR, run);
  console.log(`\n${markdownTable(run)}\n`);
  for (const r of results) {
    if (r.error) console.log(`- ${r.mode}: ${r.status}: ${r.error}`);
    for (const e of [r.endState, r.latency?.endState]) {
      if (e && !e.ok) console.log(`- ${r.mode}: end state differs, e.g. ${e.examples.join('; ')}`);
    }
  }
  for (const note of run.notes) console.log(`- ${note}`);
  console.log(`\nResults appended to ${path}`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
