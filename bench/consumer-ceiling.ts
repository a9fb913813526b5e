/**
 * The consumer's ceiling: kafkajs `eachBatch` over the mode's topics with nothing behind it,
 * with the service's fetch settings and concurrency. CEILING_PARSE=1 adds `JSON.parse` of every
 * value. It prints the time and its CPU (µs) when the first batch arrived and when all
 * CEILING_EVENTS were consumed, so the bench times exactly that span.
 */
import { Kafka, logLevel } from 'kafkajs';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION } from '../src/kafka/fetch-sizes';

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

async function main(): Promise<void> {
  const parse = env('CEILING_PARSE', '0') === '1';
  const kafka = new Kafka({
    clientId: 'cms-sync-ceiling',
    brokers: env('KAFKA_BROKERS', 'localhost:9092').split(','),
    logLevel: logLevel.ERROR,
  });
  // The service's fetch sizes (see KafkaConsumerServer), so batches are cut alike.
  const consumer = kafka.consumer({
    groupId: env('KAFKA_GROUP_ID', 'cms-sync'),
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
  });
  await consumer.connect();
  const topics = ['KAFKA_TOPIC_PRODUCT', 'KAFKA_TOPIC_CUSTOMER', 'KAFKA_TOPIC_ORDER'].map((name) =>
    env(name, name),
  );
  await consumer.subscribe({ topics, fromBeginning: true });
  const expected = Number(env('CEILING_EVENTS', '0'));
  let seen = 0;
  let parsed = 0;
  await consumer.run({
    partitionsConsumedConcurrently: Number(env('KAFKA_PARTITIONS_CONCURRENCY', '3')),
    eachBatch: ({ batch }) => {
      if (seen === 0) {
        const cpu = process.cpuUsage();
        console.log(`ceiling: first batch at ${Date.now()} cpu ${cpu.user + cpu.system}`);
      }
      seen += batch.messages.length;
      if (parse) {
        for (const message of batch.messages) {
          if (JSON.parse(message.value?.toString('utf8') ?? 'null') !== null) parsed++;
        }
      }
      if (seen >= expected && seen - batch.messages.length < expected) {
        const cpu = process.cpuUsage();
        console.log(`ceiling: all consumed at ${Date.now()} cpu ${cpu.user + cpu.system}`);
      }
      return Promise.resolve();
    },
  });
  console.log('ceiling: consuming');

  const stop = () => {
    if (parse) console.log(`ceiling: parsed ${parsed}`);
    consumer.disconnect().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error('consumer ceiling failed to start:', err);
  process.exit(1);
});
