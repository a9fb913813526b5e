/**
 * `npm run demo`: from a fresh machine to a running, syncing service. Brings up the local
 * services, migrates the database, starts the service, publishes a sample stream (with
 * duplicates, stale versions, a delete and one invalid message), shows progress, prints a
 * summary, and keeps the service running until Ctrl-C.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';
import { SyncReportRepository } from '../src/persistence/sync-report.repository';
import { runCommand } from './run-command';

const config = parseConfig(process.env);
const PARTITIONS = 3;
const OUTCOMES = ['applied', 'duplicate', 'stale', 'invalid'] as const;
type Outcome = (typeof OUTCOMES)[number];

interface DemoMessage {
  topic: string;
  key: string;
  value: string;
}

/** Versions in epoch microseconds, as a source without a counter sends them: reruns still apply. */
function sampleStream(): DemoMessage[] {
  const base = Date.now() * 1000;
  const messages: DemoMessage[] = [];
  const event = (
    entity: string,
    action: string,
    id: number,
    step: number,
    data: Record<string, unknown>,
  ) => {
    const value = JSON.stringify({
      eventId: randomUUID(),
      type: `${entity}.${action}`,
      occurredAt: new Date(Math.floor((base + step) / 1000)).toISOString(),
      version: base + step,
      data: { id, ...data },
    });
    messages.push({ topic: config.kafka.topics[entity as 'product'], key: String(id), value });
    return messages[messages.length - 1]!;
  };
  for (let id = 1; id <= 40; id++) {
    for (let step = 1; step <= 3; step++) {
      event('product', step === 1 ? 'created' : 'updated', id, step, {
        sku: `DEMO-${id}`,
        name: `Demo product ${id} (rev ${step})`,
        price: `${id}.${step}9`,
        currency: 'EUR',
        stock: id * step,
      });
    }
  }
  for (let id = 1; id <= 20; id++) {
    event('customer', 'created', id, 1, {
      email: `customer${id}@example.com`,
      firstName: 'Demo',
      lastName: `№${id}`,
    });
  }
  for (let id = 1; id <= 20; id++) {
    event('order', 'created', id, 1, {
      customerId: id,
      status: 'paid',
      currency: 'EUR',
      totalAmount: '29.97',
      placedAt: new Date().toISOString(),
      items: [{ productId: id, quantity: 3, unitPrice: '9.99' }],
    });
  }
  event('product', 'deleted', 40, 4, {});
  // Stale: older versions arriving late change nothing.
  for (let id = 1; id <= 10; id++) {
    event('product', 'updated', id, 2, {
      sku: `DEMO-${id}`,
      name: 'stale',
      price: '0.00',
      currency: 'EUR',
    });
  }
  // Duplicates: the same events delivered again.
  const duplicates = messages.slice(0, 30).map((m) => ({ ...m }));
  messages.push(...duplicates);
  messages.push({
    topic: config.kafka.topics.product,
    key: '999',
    value: '{"eventId": "broken", "type": ',
  });
  return messages;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(sync_events_total|sync_idempotency_cache_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (match) values.set(`${match[1]}{${match[2]}}`, Number(match[3]));
  }
  return values;
}

function total(values: Map<string, number>, metric: string, label: string, value: string): number {
  let sum = 0;
  for (const [key, n] of values)
    if (key.startsWith(metric) && key.includes(`${label}="${value}"`)) sum += n;
  return sum;
}

async function waitForHttp(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('the service exited during start-up; see its log');
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the service did not start within the deadline; see its log');
}

async function main(): Promise<void> {
  console.log('1/5 Local services');
  if ((await runCommand('npx', ['tsx', 'scripts/services.ts', 'up'])) !== 0) process.exit(1);

  console.log('\n2/5 Topics and database');
  const kafka = new Kafka({
    clientId: 'cms-sync-demo',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const missing = Object.values(config.kafka.topics).filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: PARTITIONS })),
    });
  }
  await admin.disconnect();
  console.log(
    `Topics: ${Object.values(config.kafka.topics).join(', ')}${missing.length ? ` (created ${missing.length})` : ''}`,
  );
  const dataSource = await openDataSource({ ...dataSourceOptions(config.db), migrationsRun: true });
  console.log(`Database ${config.db.database}: migrated`);

  console.log('\n3/5 Service');
  // Built with tsc: Nest's dependency injection needs the decorator metadata esbuild omits.
  if ((await runCommand('npm', ['run', '--silent', 'build'])) !== 0) process.exit(1);
  mkdirSync('.local', { recursive: true });
  const logPath = join('.local', 'demo-service.log');
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const port = config.http.port;
  await waitForHttp(port, child, 60_000);
  console.log(
    `Running (pid ${child.pid}); logs in ${logPath}; metrics on http://127.0.0.1:${port}/metrics`,
  );

  console.log('\n4/5 Publishing a sample stream');
  const messages = sampleStream();
  const before = await scrape(port);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (const message of messages) {
    await producer.send({
      topic: message.topic,
      acks: -1,
      messages: [{ key: message.key, value: message.value }],
    });
  }
  await producer.disconnect();
  console.log(`Published ${messages.length} messages`);

  const counts = async () => {
    const now = await scrape(port);
    const result = {} as Record<Outcome | 'hit' | 'miss', number>;
    for (const outcome of OUTCOMES) {
      result[outcome] =
        total(now, 'sync_events_total', 'outcome', outcome) -
        total(before, 'sync_events_total', 'outcome', outcome);
    }
    for (const r of ['hit', 'miss'] as const) {
      result[r] =
        total(now, 'sync_idempotency_cache_total', 'result', r) -
        total(before, 'sync_idempotency_cache_total', 'result', r);
    }
    return result;
  };
  const deadline = Date.now() + 120_000;
  let c = await counts();
  for (;;) {
    const handled = OUTCOMES.reduce((sum, o) => sum + c[o], 0);
    process.stdout.write(
      `\rHandled ${handled}/${messages.length}  applied ${c.applied}  duplicate ${c.duplicate}  stale ${c.stale}  invalid ${c.invalid}   `,
    );
    if (handled >= messages.length || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
    c = await counts();
  }

  console.log('\n\n5/5 Summary');
  console.log(
    `applied ${c.applied}, duplicate ${c.duplicate}, stale ${c.stale}, invalid ${c.invalid}`,
  );
  for (const [table, rows] of Object.entries(
    await new SyncReportRepository(dataSource).rowCounts(),
  )) {
    console.log(`  ${table.padEnd(18)} ${rows} rows`);
  }
  const lookups = c.hit + c.miss;
  console.log(
    `Redis hit rate: ${lookups ? ((100 * c.hit) / lookups).toFixed(1) : '0.0'}% (${c.hit} of ${lookups} lookups)`,
  );
  await dataSource.destroy();

  console.log('\nThe service keeps running; press Ctrl-C to stop it.');
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.once('exit', (code) => {
    console.log(`Service stopped (exit ${code ?? 'signal'}).`);
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
