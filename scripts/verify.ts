/**
 * `npm run verify -- [--max-lag N] [--max-unresolved N] [--json]`
 *
 * An operator's consistency report, for a terminal, cron or CI: rows per table, events processed
 * in the last hour by outcome, unresolved dead letters (count and oldest), and the consumer
 * group's lag per partition (the same computation as the sync_consumer_lag gauge).
 *
 * Exit codes: 0 all thresholds hold; 1 a threshold is exceeded (each one named) or the report
 * could not be made; 2 bad arguments; 78 bad configuration. Thresholds: `--max-lag N` applies to
 * every partition on its own, `--max-unresolved N` to the count of unresolved sync_errors rows.
 *
 * Configuration (DB_*, KAFKA_*) is read from the environment like the service's.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../src/config/app-config';
import { kafkaClientConfig } from '../src/kafka/kafka-client-config';
import {
  ConsumerOffsetsRepository,
  type TopicPartitionLag,
} from '../src/metrics/consumer-offsets.repository';
import {
  type RecentActivity,
  type ReportedTable,
  SyncReportRepository,
  type UnresolvedDeadLetters,
} from '../src/persistence/sync-report.repository';
import { thresholdViolations, type VerifyThresholds } from '../src/metrics/verify-thresholds';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { runCli, UsageError } from './cli';

const USAGE = 'usage: npm run verify -- [--max-lag N] [--max-unresolved N] [--json]';
const HOUR_MS = 3_600_000;

interface Options extends VerifyThresholds {
  readonly json: boolean;
}

interface Report {
  readonly database: string;
  readonly groupId: string;
  readonly rows: Record<ReportedTable, number>;
  readonly lastHour: RecentActivity;
  readonly unresolvedDeadLetters: UnresolvedDeadLetters;
  readonly consumerLag: readonly TopicPartitionLag[];
  readonly totalLag: number;
  readonly violations: readonly string[];
}

function parseOptions(argv: readonly string[]): Options {
  let values: { 'max-lag'?: string; 'max-unresolved'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'max-lag': { type: 'string' },
        'max-unresolved': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return {
    maxLag: count('--max-lag', values['max-lag']),
    maxUnresolved: count('--max-unresolved', values['max-unresolved']),
    json: values.json === true,
  };
}

function count(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw new UsageError(`${flag}: must be a whole number ≥ 0, got "${raw}"`);
  }
  return Number(raw.trim());
}

async function consumerLag(config: AppConfig): Promise<TopicPartitionLag[]> {
  const kafka = new Kafka({ ...kafkaClientConfig(config.kafka), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await new ConsumerOffsetsRepository(admin).lag(
      config.kafka.groupId,
      Object.values(config.kafka.topics),
    );
  } catch (err) {
    throw new Error(
      `reading the lag of group ${config.kafka.groupId} on ${Object.values(config.kafka.topics).join(', ')}: ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  } finally {
    await admin.disconnect();
  }
}

async function buildReport(config: AppConfig, thresholds: VerifyThresholds): Promise<Report> {
  const dataSource = await new DataSource({
    ...dataSourceOptions(config.db),
    migrationsRun: false,
  }).initialize();
  try {
    const reports = new SyncReportRepository(dataSource);
    const [rows, lastHour, unresolvedDeadLetters, lags] = await Promise.all([
      reports.rowCounts(),
      reports.activitySince(new Date(Date.now() - HOUR_MS)),
      reports.unresolvedDeadLetters(),
      consumerLag(config),
    ]);
    return {
      database: config.db.database,
      groupId: config.kafka.groupId,
      rows,
      lastHour,
      unresolvedDeadLetters,
      consumerLag: lags,
      totalLag: lags.reduce((sum, { lag }) => sum + lag, 0),
      violations: thresholdViolations(lags, unresolvedDeadLetters.count, thresholds),
    };
  } finally {
    await dataSource.destroy();
  }
}

function printText(report: Report): void {
  const width = Math.max(...Object.keys(report.rows).map((table) => table.length));
  console.log(`database ${report.database}`);
  for (const [table, rows] of Object.entries(report.rows)) {
    console.log(`  ${table.padEnd(width)} ${rows} rows`);
  }
  const { applied, stale, deadLettered } = report.lastHour;
  console.log(`last hour: applied ${applied}, stale ${stale}, dead-lettered ${deadLettered}`);
  const { count: unresolved, oldest } = report.unresolvedDeadLetters;
  console.log(
    `unresolved dead letters: ${unresolved}${oldest === null ? '' : ` (oldest ${oldest.toISOString()})`}`,
  );
  console.log(`consumer lag of group ${report.groupId}: ${report.totalLag} in total`);
  for (const { topic, partition, lag } of report.consumerLag) {
    console.log(`  ${topic}[${partition}] ${lag}`);
  }
  if (report.violations.length === 0) console.log('OK');
  for (const violation of report.violations) console.log(`FAIL: ${violation}`);
}

runCli('verify', USAGE, parseOptions, async (config, options) => {
  const report = await buildReport(config, options);
  if (options.json) console.log(JSON.stringify({ ...report, ok: report.violations.length === 0 }));
  else printText(report);
  return report.violations.length === 0 ? 0 : 1;
});
