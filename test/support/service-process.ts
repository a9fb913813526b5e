import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait-for';

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** From the signal sent to the exit; undefined when it exited on its own. */
  readonly afterSignalMs: number | undefined;
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const DIST_MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/**
 * The built service (`node dist/main.js`) as a real child process, so that a test can SIGKILL or
 * SIGTERM it like an orchestrator would. Its output goes to a log file the test can read.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<ExitResult> | undefined;
  private signalledAt: number | undefined;
  private exitResult: ExitResult | undefined;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    readonly httpPort: number,
    readonly logFile: string,
  ) {}

  start(): void {
    const fd = openSync(this.logFile, 'a');
    try {
      const child = spawn(process.execPath, [DIST_MAIN], {
        env: { PATH: process.env.PATH ?? '', ...this.env, HTTP_PORT: String(this.httpPort) },
        stdio: ['ignore', fd, fd],
      });
      this.child = child;
      this.exitResult = undefined;
      this.signalledAt = undefined;
      this.exit = new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          const result = {
            code,
            signal,
            afterSignalMs:
              this.signalledAt === undefined ? undefined : Date.now() - this.signalledAt,
          };
          this.exitResult = result;
          resolve(result);
        }),
      );
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.exitResult === undefined;
  }

  /** How it ended, if it did. */
  get exited(): ExitResult | undefined {
    return this.exitResult;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${this.name} answering 200 on /ready`,
      async () => {
        if (this.exitResult !== undefined) {
          throw new Error(
            `${this.name} exited (${JSON.stringify(this.exitResult)}); log:\n${this.logTail()}`,
          );
        }
        const response = await fetch(`http://127.0.0.1:${this.httpPort}/ready`);
        return response.status === 200;
      },
      { timeoutMs, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${this.logTail()}`);
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.signalledAt = Date.now();
    this.child?.kill(signal);
  }

  /** Resolves with how the process ended; rejects if it is still running at the deadline. */
  async waitExit(timeoutMs: number): Promise<ExitResult> {
    const exit = this.exit;
    if (exit === undefined) throw new Error(`${this.name} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([exit, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.waitExit(10_000);
  }

  logText(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 30): string {
    return this.logText().split('\n').slice(-lines).join('\n');
  }
}
