/**
 * `npm run dlq:replay -- --topic product.changed [--since ISO] [--dry-run]`
 *
 * Republishes the unresolved `sync_errors` rows of one source topic to that topic, then marks
 * them resolved. Use it after the cause was fixed upstream or in the service: a message that is
 * still invalid is dead-lettered again under its new offset (a new sync_errors row), one that is
 * valid now is applied (or found duplicate/stale) like any other event.
 *
 * Keys: sync_errors does not store the message key, so the script reads the `<topic>.dlq` topic
 * once, from its start to its current end, and takes the key (and the full, uncut value) of the
 * dead letter whose x-source-partition / x-source-offset headers match the row. A row whose dead
 * letter is gone (retention) is republished without a key and says so: the version rule keeps
 * the end state right whichever partition it lands on.
 *
 * Payloads were cut at 64 KiB when stored: a stored payload of exactly 65536 bytes may be
 * truncated, so it is republished only from its dead letter's full value, and skipped otherwise.
 *
 * Configuration (DB_*, KAFKA_*) is read from the environment like the service's.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../src/config/app-config';
import { deadLetterTopic } from '../src/kafka/dead-letter.producer';
import { kafkaClientConfig } from '../src/kafka/kafka-client-config';
import { dataSourceOptions } from '../src/persistence/data-source-options';
import { DeadLetterReplayRepository } from '../src/persistence/dead-letter-replay.repository';
import { MAX_STORED_PAYLOAD_BYTES } from '../src/persistence/sync-error.repository';
import { runCli, UsageError } from './cli';
import { parseIsoTime } from './parse-time';

const USAGE =
  'usage: npm run dlq:replay -- --topic <source topic> [--since <ISO 8601>] [--dry-run]';
/** Longest the dead-letter topic scan may take before the replay goes on without the rest. */
const DLQ_SCAN_TIMEOUT_MS = 60_000;

interface Options {
  readonly topic: string;
  readonly since: Date | undefined;
  readonly dryRun: boolean;
}

interface DeadLetter {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

function parseOptions(argv: readonly string[]): Options {
  let values: { topic?: string; since?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        topic: { type: 'string' },
        since: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const topic = values.topic?.trim() ?? '';
  if (topic === '') throw new UsageError('--topic is required (the source topic, not its .dlq)');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new UsageError(`--topic: "${topic}" is not a valid Kafka topic name`);
  }
  return {
    topic,
    since: values.since === undefined ? undefined : parseIsoTime('--since', values.since),
    dryRun: values['dry-run'] === true,
  };
}

const sourceKey = (partition: number | string, offset: number | string) => `${partition}@${offset}`;

/** Reads `<topic>.dlq` from its start to its current end and indexes it by source position. */
async function readDeadLetters(kafka: Kafka, topic: string): Promise<Map<string, DeadLetter>> {
  const dlq = deadLetterTopic(topic);
  const found = new Map<string, DeadLetter>();
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    if (!(await admin.listTopics()).includes(dlq)) {
      console.warn(`warning: ${dlq} does not exist; every message is republished without a key`);
      return found;
    }
    ends = await admin.fetchTopicOffsets(dlq);
  } finally {
    await admin.disconnect();
  }
  // Partition -> last offset still to read; empty partitions need nothing.
  const pending = new Map<number, bigint>();
  for (const end of ends) {
    if (BigInt(end.high) > BigInt(end.low)) pending.set(end.partition, BigInt(end.high) - 1n);
  }
  if (pending.size === 0) return found;

  // A throwaway group that never commits: the scan leaves no trace in any real group's offsets.
  const consumer = kafka.consumer({
    groupId: `cms-sync-dlq-replay-${randomBytes(6).toString('hex')}`,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    let done!: () => void;
    const allRead = new Promise<void>((resolve) => (done = resolve));
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        const header = (name: string) => message.headers?.[name]?.toString();
        if (header('x-source-topic') === topic) {
          const position = sourceKey(
            header('x-source-partition') ?? '?',
            header('x-source-offset') ?? '?',
          );
          found.set(position, { key: message.key, value: message.value });
        }
        const last = pending.get(partition);
        if (last !== undefined && BigInt(message.offset) >= last) pending.delete(partition);
        if (pending.size === 0) done();
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), DLQ_SCAN_TIMEOUT_MS);
    });
    if (await Promise.race([allRead.then(() => false), timedOut])) {
      console.warn(
        `warning: reading ${dlq} took over ${DLQ_SCAN_TIMEOUT_MS} ms; messages whose dead letter was not read yet are republished without a key`,
      );
    }
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return found;
}

async function replay(config: AppConfig, options: Options): Promise<void> {
  const { topic, since, dryRun } = options;
  const dataSource = await new DataSource({
    ...dataSourceOptions(config.db),
    migrationsRun: false,
  }).initialize();
  try {
    const deadLetterRows = new DeadLetterReplayRepository(dataSource);
    const rows = await deadLetterRows.unresolved(topic, since);
    const scope = `${topic}${since === undefined ? '' : ` since ${since.toISOString()}`}`;
    if (rows.length === 0) {
      console.log(`no unresolved sync_errors rows for ${scope}; nothing to do`);
      return;
    }
    console.log(
      `${rows.length} unresolved sync_errors row(s) for ${scope}${dryRun ? ' (dry run: nothing is changed)' : ''}`,
    );

    const kafka = new Kafka({ ...kafkaClientConfig(config.kafka), logLevel: logLevel.ERROR });
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        throw new Error(
          `source topic ${topic} does not exist on ${config.kafka.brokers.join(',')}`,
        );
      }
    } finally {
      await admin.disconnect();
    }
    const deadLetters = await readDeadLetters(kafka, topic);
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const counts = { replayed: 0, withoutKey: 0, skipped: 0 };
    try {
      for (const row of rows) {
        const label = `sync_errors#${row.id} ${topic}[${row.kafka_partition}]@${row.kafka_offset} ${row.error_type}`;
        const deadLetter = deadLetters.get(sourceKey(row.kafka_partition, row.kafka_offset));
        let value = row.payload;
        if (value === null) {
          counts.skipped++;
          console.log(`skip ${label}: no payload stored (the message had no value)`);
          continue;
        }
        if (value.length >= MAX_STORED_PAYLOAD_BYTES) {
          if (deadLetter?.value === undefined || deadLetter.value === null) {
            counts.skipped++;
            console.log(
              `skip ${label}: the stored payload is ${value.length} bytes, the 64 KiB cut, so it may be truncated, and its dead letter in ${deadLetterTopic(topic)} is gone; republish it from the producer`,
            );
            continue;
          }
          value = deadLetter.value;
        }
        const key = deadLetter?.key ?? null;
        const keyText =
          deadLetter === undefined
            ? 'no key (dead letter not found)'
            : `key ${key === null ? 'null' : JSON.stringify(key.toString())}`;
        if (deadLetter === undefined) counts.withoutKey++;
        if (dryRun) {
          counts.replayed++;
          console.log(`would republish ${label} with ${keyText}, ${value.length} bytes`);
          continue;
        }
        const [sent] = await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              key,
              value,
              headers: {
                'x-replayed-from': `sync_errors#${row.id}`,
                'x-source-partition': String(row.kafka_partition),
                'x-source-offset': String(row.kafka_offset),
              },
            },
          ],
        });
        // Published first, then resolved: a crash in between republishes it again on the next
        // run, which is harmless (a valid event is a duplicate then, an invalid one is recorded).
        await deadLetterRows.markResolved(row.id, new Date());
        counts.replayed++;
        console.log(
          `republished ${label} with ${keyText}, ${value.length} bytes -> ${topic}[${sent?.partition ?? '?'}]@${sent?.baseOffset ?? '?'}; resolved`,
        );
      }
    } finally {
      await producer.disconnect();
    }
    console.log(
      `${dryRun ? 'dry run: would republish' : 'republished and resolved'} ${counts.replayed}, ` +
        `without key ${counts.withoutKey}, skipped ${counts.skipped} (of ${rows.length})`,
    );
  } finally {
    await dataSource.destroy();
  }
}

runCli('dlq:replay', USAGE, parseOptions, async (config, options) => {
  await replay(config, options);
  return 0;
});
