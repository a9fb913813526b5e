/**
 * The ceilings the service is measured against, on the same stream as the modes: what kafkajs
 * delivers with nothing behind it (`consumer-ceiling`) and what the database takes of the
 * service's own statements with no Kafka and no parsing (`db-ceiling`). See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type Connection, createConnection } from 'mysql2/promise';
import { parseConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { openDataSource } from '../src/persistence/schema';
import { BenchKafka } from './bench-kafka';
import { ceilingChunks, replay } from './db-ceiling';
import { checkEndState } from './end-state';
import type { ModeResult } from './report';
import { globalStatus } from './run-monitor';
import { databaseServerPid, processCpuSeconds, SinkProcess } from './sink-process';
import { EventStream } from './stream';

export interface CeilingSettings {
  brokers: string;
  db: { host: string; port: number; user: string; password: string };
  root: string;
  runId: string;
  events: number;
  partitions: number;
  concurrency: number;
  batchMaxEvents: number;
  keep: boolean;
}

const DEADLINE_MS = 300_000;

/** kafkajs eachBatch over fresh topics holding the stream; `parse` adds JSON.parse per value. */
export async function consumerCeiling(s: CeilingSettings, parse: boolean): Promise<ModeResult> {
  const mode = parse ? 'consumer-ceiling (JSON.parse)' : 'consumer-ceiling (no-op)';
  const tag = parse ? 'ceilparse' : 'ceilnoop';
  const result: ModeResult = { mode, status: 'ok', events: s.events };
  const prefix = `bench.${s.runId}.${tag}`;
  const kafka = new BenchKafka(
    s.brokers,
    {
      product: `${prefix}.product.changed`,
      customer: `${prefix}.customer.changed`,
      order: `${prefix}.order.changed`,
    },
    `bench-${s.runId}-${tag}`,
    randomBytes(4).toString('hex'),
  );
  let sink: SinkProcess | undefined;
  try {
    await kafka.createTopics(s.partitions);
    await kafka.produce(new EventStream(s.events).next(s.events));
    sink = SinkProcess.spawn(['--import', 'tsx', resolve(s.root, 'bench/consumer-ceiling.ts')], {
      ...process.env,
      KAFKA_BROKERS: s.brokers,
      KAFKA_GROUP_ID: kafka.groupId,
      KAFKA_TOPIC_PRODUCT: kafka.topics.product,
      KAFKA_TOPIC_CUSTOMER: kafka.topics.customer,
      KAFKA_TOPIC_ORDER: kafka.topics.order,
      KAFKA_PARTITIONS_CONCURRENCY: String(s.concurrency),
      CEILING_PARSE: parse ? '1' : '0',
      CEILING_EVENTS: String(s.events),
    });
    const running = sink;
    await running.waitReady(() => Promise.resolve(running.printed('ceiling: consuming')));
    const deadline = Date.now() + DEADLINE_MS;
    while (!running.printed('ceiling: all consumed')) {
      if (!running.running || Date.now() > deadline) throw new Error(running.tail());
      await new Promise((r) => setTimeout(r, 100));
    }
    const span = (what: string) => {
      const match = new RegExp(`ceiling: ${what} at (\\d+) cpu (\\d+)`).exec(running.tail(20));
      return { at: Number(match?.[1]), cpuUs: Number(match?.[2]) };
    };
    const first = span('first batch');
    const last = span('all consumed');
    result.eventsPerSecond = s.events / Math.max(0.001, (last.at - first.at) / 1000);
    result.cpuSeconds = (last.cpuUs - first.cpuUs) / 1e6;
    result.peakRssMb = running.peakRssMb();
  } catch (err) {
    result.status = 'error';
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await sink?.stop();
    await kafka.close(!s.keep).catch(() => undefined);
  }
  return result;
}

/**
 * The service's unit of work over a fresh database, `connections` lanes at a time, in chunks of
 * `chunkSize` (1: event mode's one transaction per event); the end state is checked after.
 */
export async function dbCeiling(
  s: CeilingSettings,
  admin: Connection,
  connections: number,
  chunkSize: number,
): Promise<ModeResult> {
  const label = chunkSize === 1 ? 'per event' : `chunks of ${chunkSize}`;
  const mode = `db-ceiling (${label}, ${connections} conn${connections === 1 ? '' : 's'})`;
  const result: ModeResult = { mode, status: 'ok', events: s.events };
  const database = `cms_sync_bench_${s.runId}_dbceil_${chunkSize}_${connections}`;
  const stream = new EventStream(s.events);
  const lanes = ceilingChunks(
    stream.next(s.events),
    randomBytes(4).toString('hex'),
    s.partitions,
    chunkSize,
  );
  const dataSource = await openDataSource({
    ...dataSourceOptions(
      parseConfig({
        DB_HOST: s.db.host,
        DB_PORT: String(s.db.port),
        DB_USERNAME: s.db.user,
        DB_PASSWORD: s.db.password,
        DB_DATABASE: database,
        DB_CONNECTION_POOL_SIZE: String(connections),
      }).db,
    ),
    migrationsRun: true,
    logger: 'simple-console',
    logging: false,
  });
  let check: Connection | undefined;
  try {
    const dbPid = await databaseServerPid(admin);
    const cpuBefore = dbPid === undefined ? undefined : processCpuSeconds(dbPid);
    const before = await globalStatus(admin);
    const seconds = await replay(dataSource, lanes, connections);
    const after = await globalStatus(admin);
    const cpuAfter = dbPid === undefined ? undefined : processCpuSeconds(dbPid);
    result.eventsPerSecond = s.events / seconds;
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      result.mariadbCpuSeconds = cpuAfter - cpuBefore;
    }
    result.statementsPerEvent = (after.Questions - before.Questions - 1) / s.events;
    check = await createConnection({
      ...s.db,
      database,
      dateStrings: true,
      supportBigNumbers: true,
    });
    result.endState = await checkEndState(check, stream.reference());
  } catch (err) {
    result.status = 'error';
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await check?.end().catch(() => undefined);
    await dataSource.destroy();
    if (!s.keep) await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  }
  return result;
}
