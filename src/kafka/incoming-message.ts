import type { KafkaContext } from '@nestjs/microservices';
import type { IncomingMessage } from '../domain/sync-event';

/** The transport's message, reduced to what the sync core reads; the value stays raw bytes. */
export function incomingMessage(context: KafkaContext): IncomingMessage {
  const message = context.getMessage();
  const key: unknown = message.key;
  return {
    topic: context.getTopic(),
    partition: context.getPartition(),
    offset: message.offset,
    key:
      key === null || key === undefined
        ? null
        : typeof key === 'string'
          ? key
          : Buffer.isBuffer(key)
            ? key.toString('utf8')
            : JSON.stringify(key),
    value: Buffer.isBuffer(message.value) ? message.value : null,
  };
}
