import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { BROKERS } from './test-context';
import { waitFor } from './wait-for';

export interface DeadLetterMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The x-* headers (and any other), as text. */
  readonly headers: Record<string, string>;
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) out[name] = Buffer.isBuffer(value) ? value.toString() : String(value);
  return out;
}

/** Reads dead-letter topics from the beginning until `count` messages have arrived. */
export async function readDeadLetters(
  groupId: string,
  topics: readonly string[],
  count: number,
): Promise<DeadLetterMessage[]> {
  const kafka = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING });
  // Large: a dead letter carries its original value, up to the source topic's limit.
  const consumer = kafka.consumer({ groupId, maxBytes: 8 << 20 });
  const seen: DeadLetterMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.push({
          key: message.key,
          value: message.value,
          headers: textHeaders(message.headers),
        });
        return Promise.resolve();
      },
    });
    await waitFor(`${count} dead letters`, () => seen.length >= count, { timeoutMs: 60_000 });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
