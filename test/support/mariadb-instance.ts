import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** A TCP port nothing listens on right now: the OS picks it, it is closed again at once. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('the OS gave no port')),
      );
    });
  });
}

/** Whether root (empty password, like the shared server) can run a query over TCP. */
async function answers(port: number): Promise<boolean> {
  try {
    const connection = await createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      password: '',
      connectTimeout: 2000,
    });
    try {
      await connection.query('SELECT 1');
      return true;
    } finally {
      await connection.end();
    }
  } catch {
    return false;
  }
}

/**
 * A mariadbd of the test's own, in a temporary data folder on a random port, so that a test can
 * stop the database without touching the machine's shared one. Restarting reuses the data
 * folder (InnoDB recovers after a SIGKILL); `remove` kills it and deletes the folder.
 */
export class MariadbInstance {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'cms-sync-mariadb-'));
  private readonly dataDir = join(this.dir, 'data');
  port = 0;

  /** Creates the data folder on first use, picks a port once, starts and waits until it answers. */
  async start(): Promise<void> {
    if (!existsSync(join(this.dataDir, 'mysql'))) {
      await run(
        'mariadb-install-db',
        [
          '--no-defaults',
          `--datadir=${this.dataDir}`,
          '--auth-root-authentication-method=normal',
          '--user=root',
        ],
        { timeout: 120_000 },
      );
    }
    if (this.port === 0) this.port = await freePort();
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        `--port=${this.port}`,
        `--socket=${join(this.dir, 's.sock')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--innodb-buffer-pool-size=64M',
        '--skip-log-bin',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    await waitFor(
      `private mariadbd on 127.0.0.1:${this.port} to answer (log: ${join(this.dir, 'mariadbd.log')})`,
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`mariadbd exited with ${child.exitCode}; see ${this.dir}/mariadbd.log`);
        }
        return answers(this.port);
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  }

  /** Stops the server (SIGKILL: a crash; SIGTERM: a clean shutdown) and waits until it is gone. */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    await waitFor(
      `mariadbd on ${this.port} to stop answering`,
      async () => !(await answers(this.port)),
      {
        timeoutMs: 30_000,
      },
    );
  }

  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
