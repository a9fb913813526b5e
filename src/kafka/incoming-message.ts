import type { KafkaContext } from '@nestjs/microservices';
import type { IncomingMessage } from '../domain/sync-event';

/** The transport's message, reduced to what the sync core reads; key and value stay raw bytes. */
export function incomingMessage(context: KafkaContext): IncomingMessage {
  const message = context.getMessage();
  const key: unknown = message.key;
  return {
    topic: context.getTopic(),
    partition: context.getPartition(),
    offset: message.offset,
    // With `keepBinary` Nest hands the key over as kafkajs read it: a Buffer, or null.
    key: Buffer.isBuffer(key) ? key : typeof key === 'string' ? Buffer.from(key, 'utf8') : null,
    value: Buffer.isBuffer(message.value) ? message.value : null,
  };
}
