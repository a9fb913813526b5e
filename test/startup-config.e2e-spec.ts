import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STACK_LINE } from './support/service-http';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
/** Inside the project, so that the build resolves node_modules like dist/ does. */
const BUILDS = join(ROOT, '.local');

interface Exit {
  code: number | null;
  stderr: string;
  ms: number;
}

/** Runs the built service with only `env` (and PATH) and waits for it to exit on its own. */
function runService(main: string, env: Record<string, string>): Promise<Exit> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A service that started despite the bad values would never exit by itself.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * The real built service (`node main.js`, compiled here with the project's build settings, so
 * that Nest's decorator metadata is there) started with bad configuration values.
 */
describe('start-up with bad configuration (built service as a child process)', () => {
  let outDir: string;
  let main: string;

  beforeAll(async () => {
    mkdirSync(BUILDS, { recursive: true });
    // A private build: never a stale dist/, and never one another test is running from.
    outDir = mkdtempSync(join(BUILDS, 'startup-config-build-'));
    await run(
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'],
      { cwd: ROOT, timeout: 180_000 },
    );
    main = join(outDir, 'main.js');
  }, 200_000);

  afterAll(() => {
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  it('exits 78 at once, naming both variables, for a pool size of "abc" and a port of 70000', async () => {
    const exit = await runService(main, { DB_CONNECTION_POOL_SIZE: 'abc', HTTP_PORT: '70000' });
    expect(exit.code).toBe(78);
    expect(exit.ms).toBeLessThan(20_000);
    expect(exit.stderr).toContain('DB_CONNECTION_POOL_SIZE');
    expect(exit.stderr).toContain('"abc"');
    expect(exit.stderr).toContain('HTTP_PORT');
    expect(exit.stderr).toContain('70000');
    expect(exit.stderr).not.toMatch(STACK_LINE);
  });

  it('exits 78 naming METRICS_LAG_INTERVAL_MS when the lag refresh would hammer the broker', async () => {
    const exit = await runService(main, { METRICS_LAG_INTERVAL_MS: '5' });
    expect(exit.code).toBe(78);
    expect(exit.stderr).toContain('METRICS_LAG_INTERVAL_MS');
    expect(exit.stderr).not.toContain('DB_CONNECTION_POOL_SIZE');
  });
});
