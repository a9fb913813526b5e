import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateMariaDb } from './support/private-mariadb';
import { freePort } from './support/service-process';
import { type HttpAnswer, request, STACK_LINE } from './support/service-http';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

interface Indicator {
  status: 'up' | 'down';
  [detail: string]: unknown;
}

interface HealthBody {
  status: 'ok' | 'error';
  info?: Record<string, Indicator>;
  error?: Record<string, Indicator>;
}

const body = (answer: HttpAnswer) => JSON.parse(answer.text) as HealthBody;

/**
 * GET /ready over real HTTP while the service's database, a private mariadbd of this test's own,
 * is killed and brought back; the machine's shared MariaDB is never touched.
 */
describe('readiness follows MySQL (private MariaDB, real Kafka and Redis)', () => {
  const ctx = new TestContext();
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-readiness-'));
  let mariadb: PrivateMariaDb;
  let service: RunningService;

  const readyStatus = (status: number) =>
    waitFor(
      `GET /ready to answer ${status}`,
      async () => {
        const answer = await request(service, '/ready');
        return answer.status === status ? answer : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );

  beforeAll(async () => {
    mariadb = new PrivateMariaDb(await freePort(), dir);
    await mariadb.start();
    await ctx.setUp(1);
    service = await ctx.startService({ DB_HOST: '127.0.0.1', DB_PORT: String(mariadb.port) });
  });

  afterAll(async () => {
    await ctx.tearDown();
    await mariadb.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('is 200 with mysql up once the consumer has joined', async () => {
    const answer = await readyStatus(200);
    expect(body(answer)).toMatchObject({ status: 'ok', info: { mysql: { status: 'up' } } });
  });

  it('is 503 naming mysql while the database is killed, and liveness stays 200', async () => {
    await mariadb.stop('SIGKILL');

    const answer = await readyStatus(503);
    const health = body(answer);
    expect(health.status).toBe('error');
    expect(health.error?.mysql?.status).toBe('down');
    // Only the database is down: Kafka is still reported up, and the answer carries no stack.
    expect(health.info?.kafka?.status).toBe('up');
    expect(Object.keys(health.error ?? {})).toEqual(['mysql']);
    expect(answer.text).not.toMatch(STACK_LINE);
    expect(answer.text).not.toContain('stack');

    expect((await request(service, '/health')).status).toBe(200);
  });

  it('is 200 again after the database returns on the same data folder', async () => {
    await mariadb.start();
    const answer = await readyStatus(200);
    expect(body(answer)).toMatchObject({
      status: 'ok',
      info: { mysql: { status: 'up' }, kafka: { status: 'up' } },
    });
  });
});
