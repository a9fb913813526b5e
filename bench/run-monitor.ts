import type { Connection } from 'mysql2/promise';
import { processCpuSeconds, type SinkProcess } from './sink-process';

const POLL_MS = 50;
/** Server counters that say how many statements clients sent, and of which kind. */
const STATUS_COUNTERS = [
  'Questions',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Com_begin',
  'Com_commit',
  'Com_rollback',
] as const;
type StatusCounter = (typeof STATUS_COUNTERS)[number];
export type StatusCounts = Record<StatusCounter, number>;

export interface ConnectionPeaks {
  /** Most connections open to the bench database at one poll. */
  total: number;
  /** Most of those running a statement (not Sleep) at one poll. */
  busy: number;
}

export async function globalStatus(admin: Connection): Promise<StatusCounts> {
  const [rows] = await admin.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_COUNTERS.map(() => '?').join(', ')})`,
    [...STATUS_COUNTERS],
  );
  const counts = Object.fromEntries(STATUS_COUNTERS.map((name) => [name, 0])) as StatusCounts;
  for (const row of rows as { Variable_name: string; Value: string }[]) {
    counts[row.Variable_name as StatusCounter] = Number(row.Value);
  }
  return counts;
}

interface CpuSample {
  at: number;
  seconds: number;
}

function cpuAt(samples: readonly CpuSample[], at: number): number | undefined {
  if (samples.length === 0) return undefined;
  const first = samples[0];
  if (first && at <= first.at) return first.seconds;
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const after = samples[i];
    if (before && after && at <= after.at) {
      const share = after.at === before.at ? 1 : (at - before.at) / (after.at - before.at);
      return before.seconds + share * (after.seconds - before.seconds);
    }
  }
  return samples[samples.length - 1]?.seconds;
}

/** CPU seconds between two instants of a sampled process (linear between samples). */
function secondsBetween(
  samples: readonly CpuSample[],
  from: number,
  to: number,
): number | undefined {
  const a = cpuAt(samples, from);
  const b = cpuAt(samples, to);
  return a === undefined || b === undefined ? undefined : b - a;
}

/**
 * Samples while a mode runs, every 50 ms: the connections open to the bench database (from
 * the process list, so the consumer's own pool is seen from the server's side) and the
 * consumer's and the database server's CPU time, so the CPU of any time window can be read off afterwards. Its own
 * queries are counted so that they can be taken off the server's statement counters.
 */
export class RunMonitor {
  readonly peaks: ConnectionPeaks = { total: 0, busy: 0 };
  /** Statements this monitor sent (each adds one to Questions and one to Com_select). */
  ownStatements = 0;
  private readonly cpu: CpuSample[] = [];
  private readonly dbCpu: CpuSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly admin: Connection,
    private readonly database: string,
    private readonly sink: SinkProcess,
    /** The database server's pid, whose CPU is sampled alongside the consumer's. */
    private readonly dbPid: number | undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll());
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  /** CPU seconds the consumer spent between two instants (linear between samples). */
  cpuBetween(from: number, to: number): number | undefined {
    return secondsBetween(this.cpu, from, to);
  }

  /** CPU seconds the database server spent between two instants: all its clients' work. */
  dbCpuBetween(from: number, to: number): number | undefined {
    return secondsBetween(this.dbCpu, from, to);
  }

  private async poll(): Promise<void> {
    const seconds = this.sink.cpuSeconds();
    if (seconds !== undefined) this.cpu.push({ at: Date.now(), seconds });
    const dbSeconds = this.dbPid === undefined ? undefined : processCpuSeconds(this.dbPid);
    if (dbSeconds !== undefined) this.dbCpu.push({ at: Date.now(), seconds: dbSeconds });
    try {
      this.ownStatements++;
      const [rows] = await this.admin.query(
        `SELECT COUNT(*) AS total, COALESCE(SUM(COMMAND <> 'Sleep'), 0) AS busy
           FROM information_schema.PROCESSLIST WHERE DB = ?`,
        [this.database],
      );
      const row = (rows as { total: number | string; busy: number | string }[])[0];
      this.peaks.total = Math.max(this.peaks.total, Number(row?.total ?? 0));
      this.peaks.busy = Math.max(this.peaks.busy, Number(row?.busy ?? 0));
    } catch {
      // A missed sample only lowers the chance of seeing a peak.
    }
  }
}
