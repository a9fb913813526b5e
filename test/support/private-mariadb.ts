import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/**
 * A mariadbd of the test's own, with its own data folder and port, so that a test can kill the
 * database without touching the machine's shared one. root has an empty password over TCP, like
 * the shared server; restarting reuses the data folder (InnoDB crash recovery after a SIGKILL).
 */
export class PrivateMariaDb {
  private process: ChildProcess | undefined;
  private readonly dataDir: string;

  constructor(
    readonly port: number,
    private readonly dir: string,
    /** Extra server options, e.g. `--innodb-lock-wait-timeout=2`. */
    private readonly extraArgs: readonly string[] = [],
  ) {
    this.dataDir = join(dir, 'data');
  }

  async start(): Promise<void> {
    if (!existsSync(join(this.dataDir, 'mysql'))) {
      await run('mariadb-install-db', [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        '--auth-root-authentication-method=normal',
        '--user=root',
        '--skip-test-db',
      ]);
    }
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    try {
      this.process = spawn(
        'mariadbd',
        [
          '--no-defaults',
          `--datadir=${this.dataDir}`,
          `--port=${this.port}`,
          `--socket=${join(this.dir, 'mariadbd.sock')}`,
          '--bind-address=127.0.0.1',
          '--user=root',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=32M',
          '--innodb-log-file-size=16M',
          '--max-connections=200',
          ...this.extraArgs,
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    await waitFor(`private mariadbd on ${this.port}`, () => this.answers(), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  }

  async answers(): Promise<boolean> {
    try {
      const connection = await createConnection({
        host: '127.0.0.1',
        port: this.port,
        user: 'root',
        password: '',
        connectTimeout: 1000,
      });
      await connection.end();
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL (a crash) or SIGTERM (a clean shutdown); resolves once the server has exited. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
