/**
 * `npm run rewind -- --to <ISO 8601> [--topic <t>] [--dry-run] [--margin 10m] [--rebuild-state]`
 *
 * After the CMS database was restored from a backup taken at `--to`: moves the consumer group's
 * committed offsets of the source topics back so that everything not in the restored tables is
 * consumed again, and clears Redis' idempotency keys. Each partition restarts right after the
 * highest offset the restored database recorded before `--to` minus `--margin`; a partition
 * without a record restarts at the broker's offset of that time. Offsets only ever move back.
 * The README's "Restore and rewind" section gives the rule, why it is exact, and the procedure.
 *
 * Refuses (exit 1) while the group has members, and when the sync state (processed_events,
 * sync_entity_versions) is newer than the tables, i.e. only the CMS tables were restored: then
 * `--rebuild-state` rebuilds it from the tables first. Exit codes: 0 done (or planned, with
 * `--dry-run`); 1 refused or failed; 2 bad flags; 78 bad configuration.
 *
 * Configuration (DB_*, KAFKA_*, REDIS_*) is read from the environment like the service's.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../src/config/app-config';
import { planPartitionRewind, type PartitionRewind } from '../src/domain/rewind-plan';
import { ProcessedEventCacheRepository } from '../src/idempotency/processed-event-cache.repository';
import { ConsumerGroupOffsetsRepository } from '../src/kafka/consumer-group-offsets.repository';
import { kafkaClientConfig } from '../src/kafka/kafka-client-config';
import { MetricsService } from '../src/metrics/metrics.service';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import {
  RewindStateRepository,
  type SyncStateCheck,
} from '../src/persistence/rewind-state.repository';
import { runCli, UsageError } from './cli';
import { parseDuration, parseIsoTime } from './parse-time';

const USAGE =
  'usage: npm run rewind -- --to <ISO 8601> [--topic <source topic>] [--dry-run] [--margin <duration, default 10m>] [--rebuild-state]';
const DEFAULT_MARGIN = '10m';
/** Rows per statement of the rebuild and keys per SCAN/UNLINK round trip: short locks, no spikes. */
const BATCH_SIZE = 1000;
const OUT_OF_STEP_EXAMPLES = 5;

interface Options {
  readonly to: Date;
  readonly marginMs: number;
  readonly topic: string | undefined;
  readonly dryRun: boolean;
  readonly rebuildState: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let values: {
    to?: string;
    topic?: string;
    margin?: string;
    'dry-run'?: boolean;
    'rebuild-state'?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        to: { type: 'string' },
        topic: { type: 'string' },
        margin: { type: 'string', default: DEFAULT_MARGIN },
        'dry-run': { type: 'boolean', default: false },
        'rebuild-state': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.to === undefined) throw new UsageError('--to is required (the backup time)');
  const topic = values.topic?.trim();
  const rebuildState = values['rebuild-state'] === true;
  if (topic !== undefined && rebuildState) {
    throw new UsageError(
      '--rebuild-state rebuilds the state of every topic, so every topic must be rewound: leave out --topic',
    );
  }
  return {
    to: parseIsoTime('--to', values.to),
    marginMs: parseDuration('--margin', values.margin ?? DEFAULT_MARGIN),
    topic,
    dryRun: values['dry-run'] === true,
    rebuildState,
  };
}

const describeGroupMembers = (
  members: { memberId: string; clientId: string; clientHost: string }[],
) => members.map((m) => `${m.memberId} (client ${m.clientId} on ${m.clientHost})`).join(', ');

function explainOutOfStep(check: SyncStateCheck): string {
  const newest = check.newestRow?.toISOString() ?? 'never (the tables are empty)';
  const examples = check.outOfStep.map(
    (e) =>
      `  ${e.kind} ${e.entityId}: ${e.eventType} applied at ${e.processedAt.toISOString()}, ` +
      (e.rowExists ? 'but its row is older' : 'but it has no row'),
  );
  return [
    `the sync state is newer than the restored tables (newest row synced at ${newest}):`,
    ...examples,
    'processed_events and sync_entity_versions were not restored with the CMS tables, so the',
    'replay would find those events duplicate or stale and leave the tables behind. Restore the',
    'whole database from one backup, or run again with --rebuild-state to rebuild the sync state',
    'from the restored tables (it drops the state recorded after --to minus --margin).',
  ].join('\n');
}

function printPlan(plans: readonly PartitionRewind[], recorded: Map<string, bigint>): void {
  for (const plan of plans) {
    const position = `${plan.topic}[${plan.partition}]`;
    const from =
      plan.source === 'recorded'
        ? `after recorded offset ${recorded.get(position)}`
        : 'broker offset at the cutoff';
    console.log(
      `  ${position} committed ${plan.committed ?? 'none'}, target ${plan.target} (${from}) -> ` +
        `${plan.newOffset === null ? 'unchanged' : `set to ${plan.newOffset}`}, ` +
        `replays ${plan.replay} message(s)`,
    );
    for (const note of plan.notes) console.log(`    ${note}`);
  }
}

async function planRewind(
  admin: Admin,
  state: RewindStateRepository,
  groupId: string,
  topics: readonly string[],
  cutoff: Date,
): Promise<{ plans: PartitionRewind[]; recorded: Map<string, bigint> }> {
  const offsets = new ConsumerGroupOffsetsRepository(admin);
  const plans: PartitionRewind[] = [];
  const recordedByPosition = new Map<string, bigint>();
  for (const topic of topics) {
    const [partitions, recorded, atCutoff] = await Promise.all([
      offsets.partitions(groupId, topic),
      state.recordedOffsets(topic, cutoff),
      offsets.offsetsAt(topic, cutoff),
    ]);
    for (const p of partitions) {
      const last = recorded.get(p.partition) ?? null;
      if (last !== null) recordedByPosition.set(`${topic}[${p.partition}]`, last);
      plans.push(
        planPartitionRewind({
          topic,
          partition: p.partition,
          low: p.low,
          high: p.high,
          committed: p.committed,
          recorded: last,
          atCutoff: atCutoff.get(p.partition) ?? p.high,
        }),
      );
    }
  }
  return { plans, recorded: recordedByPosition };
}

async function rewind(config: AppConfig, options: Options): Promise<number> {
  const sourceTopics = Object.values(config.kafka.topics);
  if (options.topic !== undefined && !sourceTopics.includes(options.topic)) {
    console.error(
      `rewind: --topic ${options.topic} is not a source topic of this configuration (${sourceTopics.join(', ')})\n${USAGE}`,
    );
    return 2;
  }
  const topics = options.topic === undefined ? sourceTopics : [options.topic];
  const groupId = config.kafka.groupId;
  const cutoff = new Date(options.to.getTime() - options.marginMs);
  const dryRun = options.dryRun ? 'dry run: ' : '';

  const dataSource = await new DataSource({
    ...dataSourceOptions(config.db),
    migrationsRun: false,
  }).initialize();
  const kafka = new Kafka({ ...kafkaClientConfig(config.kafka), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  const redis = new Redis({
    host: config.redis.host,
    port: config.redis.port,
    password: config.redis.password === '' ? undefined : config.redis.password,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: () => null,
  });
  const cache = new ProcessedEventCacheRepository(redis, config, new MetricsService());
  try {
    await admin.connect();
    await redis.connect();
    const members = await new ConsumerGroupOffsetsRepository(admin).members(groupId);
    if (members.length > 0) {
      console.error(
        `refusing: consumer group ${groupId} has ${members.length} active member(s): ${describeGroupMembers(members)}.\n` +
          'Stop the service or scale it to zero first (a crashed member leaves the group after ' +
          'KAFKA_SESSION_TIMEOUT_MS), then run the rewind again.',
      );
      return 1;
    }

    const state = new RewindStateRepository(dataSource);
    console.log(
      `${dryRun}rewinding group ${groupId} on ${topics.join(', ')} to ${options.to.toISOString()} ` +
        `(cutoff ${cutoff.toISOString()}: --to minus --margin)`,
    );
    const check = await state.checkSyncState(OUT_OF_STEP_EXAMPLES);
    if (check.outOfStep.length > 0 && !options.rebuildState) {
      console.error(`refusing: ${explainOutOfStep(check)}`);
      return 1;
    }
    if (options.rebuildState) {
      if (options.dryRun) {
        const preview = await state.rebuildPreview(cutoff);
        console.log(
          `dry run: --rebuild-state would drop ${preview.versionRows} sync_entity_versions row(s) and ` +
            `${preview.processedEvents} processed_events row(s) written after the cutoff, and take ` +
            'versions from the entity rows',
        );
      } else {
        const counts = await state.rebuildFromTables(cutoff, BATCH_SIZE);
        console.log(
          `sync state rebuilt from the tables: dropped ${counts.versionRowsDropped} sync_entity_versions ` +
            `row(s) and ${counts.processedEventsDropped} processed_events row(s) written after the cutoff; ` +
            `${counts.lockRowsRestored} lock row(s) written again for restored entity rows`,
        );
        const after = await state.checkSyncState(OUT_OF_STEP_EXAMPLES);
        if (after.outOfStep.length > 0) {
          console.error(
            `failed: still out of step after the rebuild, so --to is later than the backup:\n${explainOutOfStep(after)}`,
          );
          return 1;
        }
      }
    }

    const { plans, recorded } = await planRewind(admin, state, groupId, topics, cutoff);
    printPlan(plans, recorded);
    const moves = plans.filter((plan) => plan.newOffset !== null);
    const replay = plans.reduce((sum, plan) => sum + plan.replay, 0n);
    if (options.dryRun) {
      const keys = await cache.removeAll(BATCH_SIZE, true);
      console.log(
        `dry run: nothing changed; would move ${moves.length} partition offset(s), replay ${replay} ` +
          `message(s), and remove ${keys} Redis idempotency key(s)`,
      );
      return 0;
    }
    const offsets = new ConsumerGroupOffsetsRepository(admin);
    for (const topic of topics) {
      await offsets.moveTo(
        groupId,
        topic,
        moves
          .filter((plan) => plan.topic === topic)
          .map((plan) => ({ partition: plan.partition, offset: plan.newOffset ?? plan.target })),
      );
    }
    const removed = await cache.removeAll(BATCH_SIZE);
    console.log(
      `moved ${moves.length} partition offset(s) of group ${groupId}; ${replay} message(s) will be ` +
        `replayed; removed ${removed} Redis idempotency key(s). Start the service.`,
    );
    return 0;
  } finally {
    await admin.disconnect();
    await cache.onApplicationShutdown();
    await dataSource.destroy();
  }
}

runCli('rewind', USAGE, parseOptions, rewind);
