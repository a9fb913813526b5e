import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource, type QueryRunner } from 'typeorm';
import { ENTITY_KINDS, type EntityKind } from '../src/domain/entity-kind';
import { customerEvent, orderEvent, productEvent, type TestEvent } from './support/events';
import { parsePrometheusText, type Sample, samplesOf, valueOf } from './support/prometheus-text';
import { request, STACK_LINE } from './support/service-http';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const run = promisify(execFile);
const TSX = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const VERIFY = join(__dirname, '..', 'scripts', 'verify.ts');

const POOL_SIZE = 4;
const PARTITIONS = 3;
const BUILDERS = { product: productEvent, customer: customerEvent, order: orderEvent };

/**
 * The stream each entity gets, in two partition-ordered sends per entity (keyed by id), the
 * second after the first was handled, so that batch mode cannot see a superseded event in the
 * same batch as its successor (it would record it stale, not applied):
 * ids 1-4 at version 2 (4 applied); then id 1 at version 3 (applied), the version-2 events of ids 3
 * and 4 sent again with the same eventId (2 duplicates), ids 1 and 2 at version 1 after their
 * higher versions (2 stale), and one value that is not JSON (1 invalid).
 */
const EXPECTED = { applied: 5, duplicate: 2, stale: 2, invalid: 1 } as const;

function stream(entity: EntityKind): (TestEvent | { raw: string; key: string })[][] {
  const build = BUILDERS[entity];
  const originals = [1, 2, 3, 4].map((id) => build(id, 2));
  const [, , third, fourth] = originals;
  if (third === undefined || fourth === undefined) throw new Error('four originals expected');
  return [
    originals,
    [
      build(1, 3),
      third,
      fourth,
      build(1, 1),
      build(2, 1),
      { raw: '{"eventId": "not-json-at-all', key: '99' },
    ],
  ];
}

interface VerifyResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run verify` as a child process against the test's database, topics and group. */
async function verify(ctx: TestContext, args: string[]): Promise<VerifyResult> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...ctx.env() })) {
    if (value !== undefined) env[name] = value;
  }
  try {
    const { stdout, stderr } = await run(TSX, [VERIFY, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

interface VerifyReport {
  rows: Record<string, number>;
  lastHour: { applied: number; stale: number; deadLettered: number };
  unresolvedDeadLetters: { count: number; oldest: string | null };
  consumerLag: { topic: string; partition: number; lag: number }[];
  totalLag: number;
  violations: string[];
  ok: boolean;
}

/** GET /metrics over real HTTP against the real service, after a stream of known composition. */
describe('GET /metrics and npm run verify (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;

  const scrape = async (): Promise<Sample[]> => {
    const answer = await request(service, '/metrics');
    expect(answer.status).toBe(200);
    return parsePrometheusText(answer.text);
  };

  /** sync_events_total as entity -> outcome -> count, leaving out series still at 0. */
  const eventCounts = (samples: readonly Sample[]): Record<string, Record<string, number>> => {
    const counts: Record<string, Record<string, number>> = {};
    for (const { labels, value } of samplesOf(samples, 'sync_events_total')) {
      if (value === 0) continue;
      const entity = labels.entity ?? '?';
      counts[entity] = { ...counts[entity], [labels.outcome ?? '?']: value };
    }
    return counts;
  };

  beforeAll(async () => {
    await ctx.setUp(PARTITIONS);
    service = await ctx.startService({
      DB_CONNECTION_POOL_SIZE: String(POOL_SIZE),
      METRICS_LAG_INTERVAL_MS: '250',
    });
    const streams = new Map(ENTITY_KINDS.map((entity) => [entity, stream(entity)]));
    let handled = 0;
    for (const phase of [0, 1]) {
      for (const entity of ENTITY_KINDS)
        await ctx.publish(entity, streams.get(entity)?.[phase] ?? []);
      handled += streams.get('product')?.[phase]?.length ?? 0;
      // Waits over HTTP until every event was handled, whatever the outcome; exactness is asserted below.
      await waitFor(
        `${handled} events per entity counted on /metrics`,
        async () => {
          const counts = eventCounts(await scrape());
          return ENTITY_KINDS.every(
            (entity) =>
              Object.values(counts[entity] ?? {}).reduce((sum, n) => sum + n, 0) >= handled,
          );
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
    }
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  it('counts sync_events_total exactly per entity and outcome, with no failed attempts', async () => {
    const samples = await scrape();
    expect(eventCounts(samples)).toEqual({
      product: EXPECTED,
      customer: EXPECTED,
      order: EXPECTED,
    });
    // The database agrees: applied and stale events are recorded, duplicates and invalid are not.
    const recorded = await ctx.rows<{ topic: string; outcome: string; n: number }>(
      'SELECT topic, outcome, COUNT(*) AS n FROM processed_events GROUP BY topic, outcome',
    );
    for (const entity of ENTITY_KINDS) {
      const of = (outcome: string) =>
        Number(recorded.find((r) => r.topic === ctx.topics[entity] && r.outcome === outcome)?.n);
      expect({ entity, applied: of('applied'), stale: of('stale') }).toEqual({
        entity,
        applied: EXPECTED.applied,
        stale: EXPECTED.stale,
      });
    }
  });

  it('times each counted event once in sync_event_duration_seconds, in cumulative buckets', async () => {
    const samples = await scrape();
    const handled = EXPECTED.applied + EXPECTED.duplicate + EXPECTED.stale + EXPECTED.invalid;
    for (const entity of ENTITY_KINDS) {
      const count = valueOf(samples, 'sync_event_duration_seconds_count', { entity });
      const buckets = samplesOf(samples, 'sync_event_duration_seconds_bucket', { entity });
      const sum = valueOf(samples, 'sync_event_duration_seconds_sum', { entity });
      expect({ entity, count, buckets: buckets.length }).toEqual({
        entity,
        count: handled,
        buckets: 15,
      });
      const cumulative = buckets.map((bucket) => bucket.value);
      expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
      expect(buckets.find((bucket) => bucket.labels.le === '+Inf')?.value).toBe(handled);
      // Each took some time, and less than the test has run.
      expect(sum).toBeGreaterThan(0);
      expect(sum / handled).toBeLessThan(60);
    }
  });

  it('counts sync_dead_letters_total once per invalid message, with the recorded error type', async () => {
    const samples = await scrape();
    const errors = await ctx.rows<{ topic: string; error_type: string }>(
      'SELECT topic, error_type FROM sync_errors ORDER BY id',
    );
    expect(errors).toHaveLength(ENTITY_KINDS.length);
    const expected = ENTITY_KINDS.map((entity) => {
      const row = errors.find((e) => e.topic === ctx.topics[entity]);
      return { entity, error_type: row?.error_type, value: 1 };
    });
    const actual = samplesOf(samples, 'sync_dead_letters_total')
      .filter((s) => s.value !== 0)
      .map((s) => ({ entity: s.labels.entity, error_type: s.labels.error_type, value: s.value }));
    expect(actual).toEqual(expect.arrayContaining(expected));
    expect(actual).toHaveLength(expected.length);
  });

  it('brings sync_consumer_lag to 0 on every partition of every source topic', async () => {
    const everyPartition = ENTITY_KINDS.flatMap((entity) =>
      Array.from({ length: PARTITIONS }, (_, partition) => ({
        topic: ctx.topics[entity],
        partition: String(partition),
      })),
    ).sort((a, b) => `${a.topic}/${a.partition}`.localeCompare(`${b.topic}/${b.partition}`));

    const lag = await waitFor(
      'sync_consumer_lag to be 0 on all partitions',
      async () => {
        const series = samplesOf(await scrape(), 'sync_consumer_lag');
        return series.length === everyPartition.length && series.every((s) => s.value === 0)
          ? series
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(
      lag
        .map((s) => ({ topic: s.labels.topic, partition: s.labels.partition }))
        .sort((a, b) => `${a.topic}/${a.partition}`.localeCompare(`${b.topic}/${b.partition}`)),
    ).toEqual(everyPartition);
  });

  it('exports the real mysql2 pool: in_use, idle and waiting, never above DB_CONNECTION_POOL_SIZE', async () => {
    const pool = async () => {
      const samples = await scrape();
      const state = (name: string) => {
        const found = samplesOf(samples, 'sync_db_pool_connections', { state: name });
        expect(found).toHaveLength(1);
        return found[0]?.value ?? NaN;
      };
      return { inUse: state('in_use'), idle: state('idle'), waiting: state('waiting') };
    };
    // The stream is done: nothing holds a connection, and applying events opened at least one.
    const quiet = await pool();
    expect(quiet.inUse).toBe(0);
    expect(quiet.idle).toBeGreaterThanOrEqual(1);
    expect(quiet.idle).toBeLessThanOrEqual(POOL_SIZE);
    expect(quiet.waiting).toBe(0);

    // Check out every connection of the service's own pool, then ask for one more: the gauge
    // must show the pool full and one request waiting, exactly, at scrape time.
    const dataSource = service.app.get(DataSource);
    const held: QueryRunner[] = [];
    let extra: Promise<unknown> | undefined;
    try {
      for (let i = 0; i < POOL_SIZE; i++) {
        const runner = dataSource.createQueryRunner();
        await runner.connect();
        held.push(runner);
      }
      extra = dataSource.query('SELECT 1');
      expect(
        await waitFor('the fifth request to queue', async () => {
          const state = await pool();
          return state.waiting === 1 ? state : undefined;
        }),
      ).toEqual({ inUse: POOL_SIZE, idle: 0, waiting: 1 });
    } finally {
      for (const runner of held.splice(0)) await runner.release();
      await extra;
    }
    const after = await pool();
    expect(after).toEqual({ inUse: 0, idle: POOL_SIZE, waiting: 0 });
  });

  it('keeps the default process metrics and answers in the Prometheus text format', async () => {
    const answer = await request(service, '/metrics');
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const samples = parsePrometheusText(answer.text);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(answer.text).toContain('# TYPE sync_consumer_lag gauge');
    expect(answer.text).toContain('# TYPE sync_db_pool_connections gauge');
  });

  it('serves only /health, /ready, /metrics and the status page: anything else is a 404 without a stack', async () => {
    for (const [method, path] of [
      ['GET', '/assets/uPlot.js'],
      ['POST', '/status'],
      ['GET', '/metrics/extra'],
      ['POST', '/metrics'],
      ['DELETE', '/ready'],
      ['GET', '/health/../../etc/passwd'],
      ['GET', '/debug/vars'],
    ] as const) {
      const answer = await request(service, path, method);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 404 });
      expect(answer.text).not.toMatch(STACK_LINE);
      expect(answer.text).not.toContain('stack');
    }
    for (const path of ['/health', '/ready', '/metrics', '/', '/status']) {
      expect((await request(service, path)).status).toBe(200);
    }
  });

  it('npm run verify reports the same stream and exits by its thresholds', async () => {
    const ok = await verify(ctx, ['--json', '--max-lag', '0', '--max-unresolved', '3']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as VerifyReport;
    expect(report.rows).toEqual({
      cms_products: 4,
      cms_customers: 4,
      cms_orders: 4,
      cms_order_items: 8,
      processed_events: 3 * (EXPECTED.applied + EXPECTED.stale),
      sync_errors: 3,
    });
    expect(report.lastHour).toEqual({
      applied: 3 * EXPECTED.applied,
      stale: 3 * EXPECTED.stale,
      deadLettered: 3,
    });
    expect(report.unresolvedDeadLetters.count).toBe(3);
    const oldest = Date.parse(report.unresolvedDeadLetters.oldest ?? '');
    expect(Date.now() - oldest).toBeLessThan(3_600_000);
    expect(report.consumerLag).toHaveLength(ENTITY_KINDS.length * PARTITIONS);
    expect(report.totalLag).toBe(0);
    expect(report).toMatchObject({ ok: true, violations: [] });

    // Three unresolved dead letters against a threshold of two: exit 1, naming the threshold.
    const tooMany = await verify(ctx, ['--max-unresolved', '2']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stdout).toContain('3 unresolved dead letters exceed --max-unresolved 2');

    // Bad flag value: a usage error, not a report.
    const bad = await verify(ctx, ['--max-lag', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-lag');
  });

  it('npm run verify measures real lag: two events published while the service is stopped', async () => {
    await service.stop();
    const build = BUILDERS.product;
    await ctx.publish('product', [build(1, 10), build(1, 11)]);

    const lagging = await verify(ctx, ['--json', '--max-lag', '1']);
    expect(lagging.code).toBe(1);
    const report = JSON.parse(lagging.stdout) as VerifyReport;
    expect(report.totalLag).toBe(2);
    const behind = report.consumerLag.filter((p) => p.lag !== 0);
    expect(behind).toEqual([{ topic: ctx.topics.product, partition: expect.any(Number), lag: 2 }]);
    expect(report.violations).toEqual([
      `consumer lag 2 on ${ctx.topics.product}[${behind[0]?.partition}] exceeds --max-lag 1`,
    ]);

    expect((await verify(ctx, ['--max-lag', '2'])).code).toBe(0);
  });
});
