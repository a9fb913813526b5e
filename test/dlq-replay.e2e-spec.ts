import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { productEvent } from './support/events';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const run = promisify(execFile);

interface SyncErrorRow {
  id: number;
  kafka_partition: number;
  kafka_offset: number;
  error_type: string;
  event_id: string | null;
  resolved_at: string | null;
}

/** `npm run dlq:replay` as an operator runs it: a child process against the test's services. */
describe('dlq:replay (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  let service: RunningService;

  beforeAll(async () => {
    await ctx.setUp(3);
    service = await ctx.startService();
  });

  afterAll(async () => {
    await ctx.tearDown();
  });

  async function replay(...args: string[]): Promise<{ code: number; out: string }> {
    try {
      const { stdout, stderr } = await run('npx', ['tsx', 'scripts/dlq-replay.ts', ...args], {
        env: { ...process.env, ...ctx.env() },
        timeout: 90_000,
      });
      return { code: 0, out: `${stdout}${stderr}` };
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  }

  const errors = (topic: string) =>
    ctx.rows<SyncErrorRow>(
      'SELECT id, kafka_partition, kafka_offset, error_type, event_id, resolved_at FROM sync_errors WHERE topic = ? ORDER BY id',
      [topic],
    );

  it('refuses a missing --topic and a bad --since with a clear message', async () => {
    const noTopic = await replay('--dry-run');
    expect(noTopic.code).toBe(2);
    expect(noTopic.out).toContain('--topic is required');
    const badSince = await replay('--topic', ctx.topics.product, '--since', 'last tuesday');
    expect(badSince.code).toBe(2);
    expect(badSince.out).toContain('--since: "last tuesday" is not an ISO 8601 date');
  });

  it('republishes a dead-lettered message with its key and resolves its row', async () => {
    const bad = productEvent(902, 1, { price: '1.999' });
    await ctx.publish('product', [bad]);
    const [first] = await waitFor('the sync_errors row', async () => {
      const rows = await errors(ctx.topics.product);
      return rows.length === 1 ? rows : undefined;
    });
    expect(first).toMatchObject({ error_type: 'schema_violation', resolved_at: null });

    const dry = await replay('--topic', ctx.topics.product, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`would republish sync_errors#${first?.id}`);
    expect(dry.out).toContain('with key "902"');
    expect(dry.out).toContain('dry run: would republish 1, without key 0, skipped 0 (of 1)');
    expect(await errors(ctx.topics.product)).toEqual([first]);

    const real = await replay('--topic', ctx.topics.product, '--since', '2000-01-01');
    expect(real.code).toBe(0);
    expect(real.out).toContain(`republished sync_errors#${first?.id}`);
    expect(real.out).toContain('republished and resolved 1, without key 0, skipped 0 (of 1)');

    // Still invalid: the service dead-letters it again, under its new offset.
    const rows = await waitFor('the second sync_errors row', async () => {
      const all = await errors(ctx.topics.product);
      return all.length === 2 ? all : undefined;
    });
    expect(rows[0]).toMatchObject({ id: first?.id, resolved_at: expect.any(String) });
    expect(rows[1]).toMatchObject({
      error_type: 'schema_violation',
      event_id: bad.eventId,
      resolved_at: null,
      // Same key, same partition: the original key went with it.
      kafka_partition: first?.kafka_partition,
    });
    expect(Number(rows[1]?.kafka_offset)).toBeGreaterThan(Number(first?.kafka_offset));
    expect(await service.count('product', 'invalid')).toBe(2);

    const again = await replay('--topic', ctx.topics.product, '--since', new Date().toISOString());
    expect(again.out).toContain('no unresolved sync_errors rows');
  });

  it('skips a stored payload at the 64 KiB cut whose full dead letter is gone', async () => {
    await ctx.rows(
      `INSERT INTO sync_errors (event_id, topic, kafka_partition, kafka_offset, error_type,
         error_message, payload, attempts, created_at)
       VALUES (NULL, ?, 0, 424242, 'invalid_json', 'cut', ?, 1, UTC_TIMESTAMP(3))`,
      [ctx.topics.customer, Buffer.alloc(65536, 'x')],
    );
    const result = await replay('--topic', ctx.topics.customer);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/skip sync_errors#\d+ .*65536 bytes, the 64 KiB cut/);
    expect(result.out).toContain('republished and resolved 0, without key 0, skipped 1 (of 1)');
    const [row] = await errors(ctx.topics.customer);
    expect(row?.resolved_at).toBeNull();
  });
});
