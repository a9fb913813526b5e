import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { createServer } from 'node:net';

const CLOCK_TICKS_PER_SECOND = 100;
const START_DEADLINE_MS = 90_000;
const STOP_DEADLINE_MS = 40_000;
const OUTPUT_TAIL_CHARS = 4000;

/** utime + stime of any process so far, in seconds; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The pid of the database server the bench talks to, from its own pid file (other mariadbd
 * processes, private to tests, may run beside it); undefined if that file cannot be read.
 */
export async function databaseServerPid(admin: Connection): Promise<number | undefined> {
  try {
    const [rows] = await admin.query('SELECT @@pid_file AS file');
    const file = (rows as { file: string }[])[0]?.file;
    if (file === undefined) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A mode that did not come up: its exit code and the last of what it printed. */
export class StartFailedError extends Error {}

/** A free TCP port on loopback for the service's HTTP server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One consumer under test (the service, or the naive sink) as a child process, measured from
 * /proc: CPU seconds (utime + stime) and peak RSS (VmHWM), read before it is stopped.
 */
export class SinkProcess {
  private output = '';
  /** All it printed: logging at LOG_LEVEL=warn should cost next to nothing. */
  outputBytes = 0;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.outputBytes += chunk.length;
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
  }

  /** Starts `node <nodeArgs>`; measuring can begin at once, before it is ready. */
  static spawn(nodeArgs: readonly string[], env: NodeJS.ProcessEnv): SinkProcess {
    return new SinkProcess(
      spawn(process.execPath, [...nodeArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  /** Polls `isReady` until it holds; StartFailedError if the process exits or takes too long. */
  async waitReady(isReady: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (;;) {
      if (this.exited !== undefined) {
        throw new StartFailedError(
          `exited during start-up (${this.exited.code ?? this.exited.signal}): ${this.tail()}`,
        );
      }
      if (await isReady().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new StartFailedError(`not ready within ${START_DEADLINE_MS} ms: ${this.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  /** The last lines it printed, on one line, for a report. */
  tail(lines = 5): string {
    return this.output.trim().split('\n').slice(-lines).join(' | ');
  }

  printed(text: string): boolean {
    return this.output.includes(text);
  }

  /** utime + stime so far, in seconds; undefined once the process is gone. */
  cpuSeconds(): number | undefined {
    return processCpuSeconds(this.pid);
  }

  /** The first line printed that matches `pattern`, as its first group. */
  printedValue(pattern: RegExp): string | undefined {
    return pattern.exec(this.output)?.[1];
  }

  /** VmHWM: the most resident memory the process has had, in MB. */
  peakRssMb(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) / 1024;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM for a graceful stop (a CPU profile is written on exit), SIGKILL past the deadline. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (this.exited === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await this.exitPromise;
      clearTimeout(timer);
    }
    return this.exited;
  }
}
