/**
 * Microseconds per event of decoding and validating one message (`validateEvent`), over the
 * benchmark's own stream (products, customers, orders with 1–5 items, 5% deletes) with 2% of
 * invalid messages mixed in. No Kafka, no database: only the CPU the parse step costs.
 *
 *   npx tsx bench/validation-micro.ts [--events 20000] [--rounds 15]
 */
import { parseArgs } from 'node:util';
import { InvalidEventError } from '../src/common/errors/invalid-event.error';
import type { EntityKind } from '../src/domain/entity-kind';
import { validateEvent } from '../src/domain/event-validation';
import type { IncomingMessage } from '../src/domain/sync-event';
import { envelope, EventStream } from './stream';

const INVALID_EVERY = 50;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '15' },
  },
});
const eventCount = Number(values.events);
const rounds = Number(values.rounds);

/** A few kinds of bad input, the way a broken producer would send them. */
function invalidValue(i: number): string {
  switch (i % 4) {
    case 0:
      return '{"eventId": "e-1", "type": ';
    case 1:
      return JSON.stringify({ eventId: `bad-${i}`, type: 'product.updated', version: 0, data: {} });
    case 2:
      return JSON.stringify({
        eventId: `bad-${i}`,
        type: 'product.updated',
        occurredAt: '2026-11-20T10:15:30Z',
        version: 3,
        data: { id: 1, sku: 'S', name: 'N', price: '1.999', currency: 'EUR' },
      });
    default:
      return '[1, 2, 3]';
  }
}

const stream = new EventStream(eventCount);
const messages: { kind: EntityKind; message: IncomingMessage }[] = stream
  .next(eventCount)
  .map((event, i) => {
    const kind: EntityKind = i % INVALID_EVERY === 7 ? 'product' : event.kind;
    const value = i % INVALID_EVERY === 7 ? invalidValue(i) : envelope(event, 'bench0001');
    return {
      kind,
      message: {
        topic: `${kind}.changed`,
        partition: 0,
        offset: String(i),
        key: Buffer.from(String(event.id)),
        value: Buffer.from(value),
      },
    };
  });

/**
 * CPU time (not wall time: the machine is shared) per message of `work`, the median over the
 * rounds after the first five, which warm the JIT up.
 */
function microsPerMessage(work: (kind: EntityKind, message: IncomingMessage) => void): number {
  const perMessage: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.cpuUsage();
    for (const { kind, message } of messages) work(kind, message);
    const used = process.cpuUsage(started);
    perMessage.push((used.user + used.system) / messages.length);
  }
  const steady = perMessage.slice(Math.min(5, rounds - 1)).sort((a, b) => a - b);
  return steady[Math.floor(steady.length / 2)] ?? Number.NaN;
}

let invalid = 0;
const floor = microsPerMessage((_kind, message) => {
  try {
    JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    // The invalid share is part of the mix: a parse that fails costs what it costs.
  }
});
const validation = microsPerMessage((kind, message) => {
  if (validateEvent(kind, message) instanceof InvalidEventError) invalid++;
});
const bytes = messages.reduce((sum, { message }) => sum + (message.value?.length ?? 0), 0);
console.log(
  `validateEvent: ${validation.toFixed(2)} µs/message; JSON.parse alone: ${floor.toFixed(2)} ` +
    `µs/message (median of ${Math.max(1, rounds - 5)} rounds of ${messages.length} messages, ` +
    `${Math.round(bytes / messages.length)} bytes average, ` +
    `${invalid / rounds} invalid per round)`,
);
