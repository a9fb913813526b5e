import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { productEvent } from './support/events';
import { freePort } from './support/service-process';
import { TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
/** Inside the project, so that the build resolves node_modules like dist/ does. */
const BUILDS = join(ROOT, '.local');

type LogLine = Record<string, unknown>;

/** The built service as a child process whose stdout and stderr the test reads. */
class LoggedService {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(main: string, env: Record<string, string | undefined>) {
    this.child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Every complete stdout line, parsed; a line that is not JSON fails the test here. */
  lines(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as LogLine;
        } catch {
          throw new Error(`stdout line is not JSON: ${line}`);
        }
      });
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

interface OtlpBody {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

/** A stand-in OTLP/HTTP collector: collects the spans POSTed to /v1/traces. */
class Collector {
  readonly spans: OtlpSpan[] = [];
  readonly server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const parsed = JSON.parse(body) as OtlpBody;
        for (const resource of parsed.resourceSpans)
          for (const scope of resource.scopeSpans) this.spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('structured logs and tracing (built service as a child process)', () => {
  const ctx = new TestContext();
  const secret = `Pw-${randomBytes(9).toString('hex')}`;
  const user = `cms_log_${ctx.id}`;
  let outDir: string;
  let service: LoggedService | undefined;

  beforeAll(async () => {
    mkdirSync(BUILDS, { recursive: true });
    // A private build: never a stale dist/, and never one another test is running from.
    outDir = mkdtempSync(join(BUILDS, 'logging-build-'));
    await run(
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'],
      { cwd: ROOT, timeout: 180_000 },
    );
    await ctx.setUp(1);
    // A MySQL user whose password only the secret file holds: the service connecting proves
    // DB_PASSWORD_FILE was read; the password appearing in the output would be the bug.
    await ctx.db.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, secret]);
    await ctx.db.query(`GRANT ALL ON \`${ctx.database}\`.* TO ?@'%'`, [user]);
  }, 240_000);

  afterAll(async () => {
    await service?.stop();
    await ctx.db?.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await ctx.tearDown();
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  }, 120_000);

  it('writes only JSON lines, masks the password from DB_PASSWORD_FILE, and logs each event at debug', async () => {
    const passwordFile = join(outDir, 'db-password');
    writeFileSync(passwordFile, `${secret}\n`);
    const httpPort = await freePort();
    service = new LoggedService(join(outDir, 'main.js'), {
      ...ctx.env({
        DB_USERNAME: user,
        DB_PASSWORD_FILE: passwordFile,
        LOG_LEVEL: 'debug',
        HTTP_PORT: String(httpPort),
        // Every statement is "slow": the migrations' CREATE TABLEs surely take over 1 ms.
        SLOW_QUERY_THRESHOLD_MS: '1',
      }),
    });
    const running = service;
    await waitFor(
      'the ready line',
      () => running.lines().some((line) => String(line.msg).startsWith('ready:')),
      { timeoutMs: 90_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout:\n${running.stdout}\nstderr:\n${running.stderr}`);
    });
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);

    const events = [productEvent(1, 1), productEvent(2, 1)];
    await ctx.publish('product', events);
    const handled = await waitFor('two "event handled" lines', () => {
      const found = running.lines().filter((line) => line.msg === 'event handled');
      return found.length >= 2 ? found : undefined;
    });
    expect(await running.stop()).toBe(0);

    const lines = running.lines();
    const output = running.stdout + running.stderr;
    expect(output).not.toContain(secret);
    expect(running.stderr).toBe('');

    const startup = lines.find((line) => line.msg === 'starting');
    expect(startup).toMatchObject({
      level: 'info',
      config: { db: { username: user, password: '***', database: ctx.database } },
    });

    expect(handled.map((line) => line.eventId).sort()).toEqual(
      events.map((event) => event.eventId).sort(),
    );
    for (const line of handled) {
      expect(line).toMatchObject({
        level: 'debug',
        topic: ctx.topics.product,
        partition: 0,
        offset: expect.stringMatching(/^\d+$/),
        outcome: 'applied',
        durationMs: expect.any(Number),
      });
    }

    const slow = lines.find((line) => line.context === 'TypeORM' && line.level === 'warn');
    expect(slow).toMatchObject({ durationMs: expect.any(Number), sql: expect.any(String) });
    expect(slow?.durationMs).toBeGreaterThan(1);
    expect(slow).not.toHaveProperty('parameters');

    // HTTP requests are logged, at debug only.
    const request = lines.find((line) => line.req !== undefined);
    expect(request).toMatchObject({ level: 'debug', req: { url: '/health' } });
  });

  it('exports one span per fetched batch over OTLP/HTTP, with a transaction per event and the Redis calls as children', async () => {
    const collector = new Collector();
    const endpoint = await collector.listen();
    const httpPort = await freePort();
    try {
      const traced = new LoggedService(join(outDir, 'main.js'), {
        ...ctx.env({
          KAFKA_GROUP_ID: `${ctx.groupId}-traced`,
          DB_USERNAME: user,
          DB_PASSWORD: secret,
          LOG_LEVEL: 'info',
          HTTP_PORT: String(httpPort),
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          // Event mode: the span's transactions are one per event.
          SYNC_MODE: 'event',
        }),
      });
      service = traced;
      await waitFor(
        'the ready line',
        () => traced.lines().some((line) => String(line.msg).startsWith('ready:')),
        { timeoutMs: 90_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nstdout:\n${traced.stdout}\nstderr:\n${traced.stderr}`);
      });
      expect(traced.lines().some((line) => String(line.msg).startsWith('tracing on'))).toBe(true);

      // The new group reads the topic from the start: the two events of the first test, found
      // in Redis now (one record batch, so one fetch), and only then these two (another one).
      const duplicates = async () => {
        const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
        const line = /^sync_events_total\{entity="product",outcome="duplicate"\} (\d+)$/m.exec(
          text,
        );
        return Number(line?.[1] ?? 0) >= 2 || undefined;
      };
      await waitFor('the first two events found duplicate', duplicates);
      await ctx.publish('product', [productEvent(7, 1), productEvent(8, 1)]);
      await waitFor('products 7 and 8 applied', async () => {
        const rows = await ctx.rows('SELECT id FROM cms_products WHERE id IN (7, 8)');
        return rows.length === 2;
      });
      expect((await fetch(`http://127.0.0.1:${httpPort}/ready`)).status).toBe(200);
      // Stopping flushes the spans still buffered.
      expect(await traced.stop()).toBe(0);
      // At info, neither events nor HTTP requests have lines of their own.
      expect(traced.lines().filter((line) => line.msg === 'event handled')).toEqual([]);
      expect(traced.lines().filter((line) => line.req !== undefined)).toEqual([]);
      expect(traced.stdout + traced.stderr).not.toContain(secret);

      const name = `cms-sync ${ctx.topics.product} process`;
      const batchSpans = await waitFor('two batch spans', () => {
        const found = collector.spans.filter((span) => span.name === name);
        return found.length >= 2 ? found : undefined;
      });
      expect(batchSpans).toHaveLength(2);
      const offsets = (span: OtlpSpan) =>
        [attribute(span, 'messaging.kafka.offset'), attribute(span, 'cms_sync.last_offset')].map(
          Number,
        );
      batchSpans.sort((x, y) => (offsets(x)[0] ?? 0) - (offsets(y)[0] ?? 0));
      expect(batchSpans.map(offsets)).toEqual([
        [0, 1],
        [2, 3],
      ]);
      const children = (span: OtlpSpan) =>
        collector.spans.filter((child) => child.parentSpanId === span.spanId);
      for (const span of batchSpans) {
        expect(attribute(span, 'messaging.destination.name')).toBe(ctx.topics.product);
        expect(attribute(span, 'messaging.destination.partition.id')).toBe('0');
        expect(attribute(span, 'messaging.batch.message_count')).toBe(2);
        // One Redis lookup for the whole fetch.
        expect(children(span).filter((child) => child.name === 'redis MGET')).toHaveLength(1);
      }
      const [found, applied] = batchSpans as [OtlpSpan, OtlpSpan];
      // Both found in Redis: no transaction, nothing to remember.
      expect(children(found).map((child) => child.name)).toEqual(['redis MGET']);
      // Both new: one transaction each, then one cache write for both.
      const appliedChildren = children(applied).map((child) => child.name);
      expect(appliedChildren.filter((child) => child === 'db transaction')).toHaveLength(2);
      expect(appliedChildren).toContain('redis EVAL');
      for (const transaction of children(applied).filter((c) => c.name === 'db transaction')) {
        const statements = children(transaction);
        expect(statements.map((child) => child.name)).toEqual(
          expect.arrayContaining(['mysql SELECT', 'mysql INSERT']),
        );
        // Statements carry their SQL, never their parameters (customers' personal data).
        for (const statement of statements) {
          expect(String(attribute(statement, 'db.query.text'))).not.toContain('SKU-');
        }
      }
      // Work outside a batch (readiness, migrations) makes no root spans of its own.
      expect(
        collector.spans.filter(
          (span) => span.parentSpanId === undefined || span.parentSpanId === '',
        ),
      ).toHaveLength(2);
    } finally {
      await new Promise((resolve) => collector.server.close(resolve));
    }
  });
});
