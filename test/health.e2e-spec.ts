import { createServer, type AddressInfo } from 'node:net';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

interface Indicator {
  status: 'up' | 'down';
  [detail: string]: unknown;
}

interface HealthBody {
  status: string;
  info: Record<string, Indicator>;
  error: Record<string, Indicator>;
  details: Record<string, Indicator>;
}

/** The service's HTTP base address; it listens on an ephemeral port (HTTP_PORT=0). */
function baseUrl(service: RunningService): string {
  const address = (service.app.getHttpServer() as { address(): AddressInfo | string }).address();
  if (typeof address === 'string') throw new Error(`unexpected address ${address}`);
  return `http://127.0.0.1:${address.port}`;
}

async function get(service: RunningService, path: string): Promise<Answer> {
  const response = await fetch(`${baseUrl(service)}${path}`);
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the assertions on `text` say what it was
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** A port nothing listens on: the OS hands out a free one, which is closed again at once. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls /ready until it answers 200 and returns that answer. */
function readyAnswer(service: RunningService): Promise<Answer> {
  return waitFor(
    'GET /ready to answer 200',
    async () => {
      const answer = await get(service, '/ready');
      return answer.status === 200 ? answer : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

const STACK_LINE = /\bat .+:\d+:\d+/;

/** GET /health and GET /ready over real HTTP against the real service. */
describe('health and readiness (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;

  beforeAll(async () => {
    await ctx.setUp(2);
    service = await ctx.startService();
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  it('GET /health answers 200 with terminus JSON and no dependency checks', async () => {
    const answer = await get(service, '/health');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toContain('no-store');
    expect(answer.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
  });

  it('GET /ready answers 200 once MySQL answers and the consumer has joined its group', async () => {
    const answer = await readyAnswer(service);
    const body = answer.body as unknown as HealthBody;
    expect(body.status).toBe('ok');
    expect(body.info.mysql?.status).toBe('up');
    expect(body.info.kafka).toEqual({ status: 'up', state: 'joined' });
    expect(body.info.redis).toEqual({ status: 'up', connected: true });
    expect(body.error).toEqual({});
    expect(answer.headers.get('cache-control')).toContain('no-store');
  });

  it('reports Redis down without making readiness fail', async () => {
    const port = await freePort();
    const noRedis = await ctx.startService({ REDIS_PORT: String(port) });

    // The second member joins the same group: the first one rebalances and must stay ready.
    const firstStatuses: number[] = [];
    const answer = await waitFor(
      'GET /ready of the service without Redis to answer 200',
      async () => {
        firstStatuses.push((await get(service, '/ready')).status);
        const candidate = await get(noRedis, '/ready');
        return candidate.status === 200 ? candidate : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const body = answer.body as unknown as HealthBody;
    expect(body.status).toBe('ok');
    expect(body.info.mysql?.status).toBe('up');
    expect(body.info.kafka?.status).toBe('up');
    expect(body.info.redis).toEqual({ status: 'up', connected: false });
    expect(body.error).toEqual({});
    expect(answer.text).not.toMatch(STACK_LINE);
    expect(answer.text).not.toContain('stack');
    expect(firstStatuses.every((status) => status === 200)).toBe(true);

    await noRedis.stop();
  });

  it('answers an unknown path with 404 and no stack trace', async () => {
    const answer = await get(service, '/admin');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ statusCode: 404 });
    expect(answer.text).not.toMatch(STACK_LINE);
    expect(answer.text).not.toContain('stack');
  });
});
