import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { waitFor } from './wait-for';

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A redis-server of the test's own on its own port, so that a test can kill Redis without
 * touching the machine's shared one.
 */
export class PrivateRedis {
  private process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(`private redis on ${this.port}`, () => answers(this.port), { timeoutMs: 10_000 });
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitFor(`redis on ${this.port} gone`, async () => !(await answers(this.port)), {
      timeoutMs: 10_000,
    });
  }
}
