import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndStateResult } from './end-state';
import { type Machine, machineLine } from './machine';
import type { ConnectionPeaks, StatusCounts } from './run-monitor';

export interface LatencyResult {
  rate: number;
  seconds: number;
  produced: number;
  /** Events found in processed_events (duplicates are never recorded, so they are not here). */
  measured: number;
  keptUp: boolean;
  lagAfterProducing: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Cache lookups during this run only: its duplicates mostly repeat events committed before. */
  redis?: CacheFigures;
  /** Per 10 s of input, by the time each event was handed to the producer: where the tail sits. */
  windows?: LatencyWindow[];
  /**
   * Each event's time split where the broker appended it (the topics stamp LogAppendTime): the
   * producer's and broker's leg, and the service's, from the append to processed_at.
   */
  legs?: { produce: LatencySummary; service: LatencySummary; appendSpreadMaxMs: number };
  /** The service's leg per 10 s of input. */
  serviceWindows?: LatencyWindow[];
  /** The database's own commit latency in the same seconds (bench/commit-probe.ts). */
  commitProbe?: LatencyWindow[];
  /**
   * The bench process's own event-loop delay, sampled each second: an event's send time is taken
   * as the bench hands it to its producer, so a stall of the bench's shows up as latency.
   */
  benchEventLoopDelay?: LatencyWindow[];
  /** The service's own pauses during this run, from its /metrics (prom-client's defaults). */
  serviceGc?: GcFigures;
  endState?: EndStateResult;
}

export interface LatencySummary {
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

/** The value at percentile `p` of values sorted ascending; undefined when there are none. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(ms: readonly number[]): LatencySummary {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1],
  };
}

export interface LatencyWindow {
  fromSecond: number;
  measured: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

export interface GcFigures {
  /** Collections and their total seconds by kind (minor, major, incremental, weakcb). */
  byKind: Record<string, { count: number; seconds: number }>;
  /** Collections of 10 ms or more, any kind. */
  atLeast10Ms: number;
  /** The longest event-loop delay between the run's first and last scrape. */
  eventLoopDelayMaxMs: number;
}

export interface CacheFigures {
  hits: number;
  misses: number;
  hitRate: number;
}

export interface ModeResult {
  mode: string;
  status: 'ok' | 'did not start' | 'stalled' | 'error';
  error?: string;
  events: number;
  produceSeconds?: number;
  /** Events over the time from the first to the last processed_events.processed_at. */
  eventsPerSecond?: number;
  /** Events over the time from the first commit until the bench saw the group's lag at 0. */
  eventsPerSecondToLagZero?: number;
  secondsFromStartToLagZero?: number;
  /** Consumer CPU from the first commit to lag 0 (start-up excluded). */
  cpuSeconds?: number;
  /** The database server's CPU over the same span: every client's work, ours by far the most. */
  mariadbCpuSeconds?: number;
  cpuSecondsTotal?: number;
  peakRssMb?: number;
  peakDbConnections?: ConnectionPeaks;
  statementsPerEvent?: number;
  statementCounters?: StatusCounts;
  /** Statements a second the server counted while nothing of ours ran: the machine's noise. */
  backgroundStatementsPerSecond?: number;
  redis?: CacheFigures | null;
  endState?: EndStateResult;
  latency?: LatencyResult;
  exit?: string;
  /** What the consumer printed to stdout and stderr: a noisy log costs CPU. */
  outputBytes?: number;
  outputTail?: string;
}

export interface BenchRun {
  startedAt: string;
  finishedAt: string;
  options: Record<string, unknown>;
  machine: Machine;
  modes: ModeResult[];
  notes: string[];
}

const fixed = (value: number | undefined, digits = 0) =>
  value === undefined
    ? '—'
    : value.toLocaleString('en-US', {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      });

function endStateCell(r: ModeResult): string {
  if (r.status === 'did not start') return 'did not start';
  const checks = [r.endState, r.latency?.endState].filter(
    (e): e is EndStateResult => e !== undefined,
  );
  if (checks.length === 0) return r.status === 'ok' ? 'not checked' : r.status;
  const bad = checks.find((e) => !e.ok);
  if (!bad) return r.status === 'ok' ? 'ok' : `ok, but ${r.status}`;
  return `**FAILED** (${bad.missing} missing, ${bad.different} different, ${bad.unexpected} extra of ${bad.expectedRows} rows)`;
}

function latencyCell(r: ModeResult): string {
  const l = r.latency;
  if (!l) return '—';
  if (!l.keptUp) return `cannot keep up (lag ${l.lagAfterProducing} after ${l.seconds} s)`;
  return `${fixed(l.p50Ms)} / ${fixed(l.p95Ms)} / ${fixed(l.p99Ms)} @ ${fixed(l.rate)}/s`;
}

/**
 * The db-ceiling row a mode is compared with: per-event transactions for event mode, the
 * batch chunks over the most connections for batch mode; none for the ceilings themselves.
 */
function dbCeilingFor(run: BenchRun, r: ModeResult): ModeResult | undefined {
  const ceilings = run.modes.filter((m) => m.mode.startsWith('db-ceiling'));
  if (r.mode === 'event') return ceilings.find((m) => m.mode.includes('per event'));
  if (r.mode !== 'batch') return undefined;
  return ceilings.filter((m) => m.mode.includes('chunks')).at(-1);
}

/** The table the README's performance section is copied from. */
export function markdownTable(run: BenchRun): string {
  const lines = [
    `| mode | events/s | of db-ceiling | CPU s | service µs/event | MariaDB µs/event | peak RSS MB | peak DB conns (busy) | statements/event | Redis hit % (bulk / latency run) | p50/p95/p99 ms @ rate | end state |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const perEvent = (seconds: number | undefined, r: ModeResult) =>
    seconds === undefined ? undefined : (seconds * 1e6) / r.events;
  for (const r of run.modes) {
    const ceiling = dbCeilingFor(run, r);
    const share =
      ceiling?.eventsPerSecond === undefined || r.eventsPerSecond === undefined
        ? '—'
        : `${fixed((100 * r.eventsPerSecond) / ceiling.eventsPerSecond)}%`;
    const conns = r.peakDbConnections
      ? `${r.peakDbConnections.total} (${r.peakDbConnections.busy})`
      : '—';
    const live = r.latency?.redis ? ` / ${fixed(100 * r.latency.redis.hitRate, 1)}` : '';
    const redis =
      r.redis === null ? 'no Redis' : r.redis ? `${fixed(100 * r.redis.hitRate, 1)}${live}` : '—';
    lines.push(
      `| ${r.mode} | ${fixed(r.eventsPerSecond)} | ${share} | ${fixed(r.cpuSeconds, 1)} | ${fixed(perEvent(r.cpuSeconds, r), 1)} | ${fixed(perEvent(r.mariadbCpuSeconds, r), 1)} | ${fixed(r.peakRssMb)} | ${conns} | ${fixed(r.statementsPerEvent, 2)} | ${redis} | ${latencyCell(r)} | ${endStateCell(r)} |`,
    );
  }
  const events = run.modes[0]?.events ?? 0;
  return [
    `${events.toLocaleString('en-US')} events per mode; ${machineLine(run.machine)}.`,
    '',
    ...lines,
  ].join('\n');
}

/** Appends the run to bench/results/<UTC date>.json, written whole through a temporary file. */
export function saveRun(dir: string, run: BenchRun): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${run.startedAt.slice(0, 10)}.json`);
  const runs: BenchRun[] = existsSync(path)
    ? ((JSON.parse(readFileSync(path, 'utf8')) as { runs?: BenchRun[] }).runs ?? [])
    : [];
  runs.push(run);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ runs }, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}
