import type { EntityKind } from '../src/domain/entity-kind';
import { MetricsService } from '../src/metrics/metrics.service';
import { customerEvent, orderEvent, productEvent, type TestEvent } from './support/events';
import { LogCapture } from './support/log-capture';
import { type DeadLetterMessage, readDeadLetters } from './support/dead-letter-reader';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/** What a poison kind must end as: dead-lettered with this error_type, or applied as usual. */
type Expected = { errorType: string } | 'applied';

interface PoisonKind {
  readonly name: string;
  readonly entity: EntityKind;
  readonly value: Buffer | null;
  readonly expected: Expected;
  /** For an accepted kind: the entity id whose row must exist afterwards. */
  readonly appliedId?: number;
}

interface Sent {
  readonly kind: PoisonKind;
  readonly offset: number;
  readonly follower: TestEvent;
  readonly followerOffset: number;
}

const PLACEHOLDER = '"__RAW_JSON__"';
const nestedArrays = (depth: number, inner = '1') =>
  `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const DEEP = nestedArrays(5000);
const LONG = 300_000;

/** The event as JSON text, with the field at `path` replaced by raw JSON text. */
function withRaw(event: TestEvent, path: readonly string[], raw: string): Buffer {
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[path[path.length - 1] as string] = '__RAW_JSON__';
  return Buffer.from(JSON.stringify(copy).replace(PLACEHOLDER, raw));
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const invalid = (errorType: string): Expected => ({ errorType });

let nextId = 1;
const product = (data: Record<string, unknown> = {}) => productEvent(nextId++, 1, data);
const customer = (data: Record<string, unknown> = {}) => customerEvent(nextId++, 1, data);
const order = (data: Record<string, unknown> = {}) => orderEvent(nextId++, 1, data);

function kinds(): PoisonKind[] {
  const list: PoisonKind[] = [];
  const add = (name: string, entity: EntityKind, value: Buffer | null, expected: Expected) =>
    list.push({ name, entity, value, expected });
  const accepted = (name: string, entity: EntityKind, event: TestEvent, value?: Buffer) =>
    list.push({
      name,
      entity,
      value: value ?? json(event),
      expected: 'applied',
      appliedId: event.data.id as number,
    });

  // Deep nesting in every envelope field, in every data field, and as the whole value.
  for (const field of ['eventId', 'type', 'occurredAt', 'version', 'data'])
    add(
      `${field} nested 5,000 arrays deep`,
      'product',
      withRaw(product(), [field], DEEP),
      invalid('nesting_too_deep'),
    );
  for (const field of ['id', 'sku', 'name', 'description', 'price', 'currency', 'stock', 'active'])
    add(
      `data.${field} nested 5,000 arrays deep`,
      'product',
      withRaw(product(), ['data', field], DEEP),
      invalid('nesting_too_deep'),
    );
  for (const field of ['email', 'firstName', 'status'])
    add(
      `customer data.${field} nested 5,000 arrays deep`,
      'customer',
      withRaw(customer(), ['data', field], DEEP),
      invalid('nesting_too_deep'),
    );
  add(
    'order data.items nested 5,000 arrays deep',
    'order',
    withRaw(order(), ['data', 'items'], DEEP),
    invalid('nesting_too_deep'),
  );
  add(
    'order item unitPrice nested 5,000 objects deep',
    'order',
    withRaw(order(), ['data', 'items', '0', 'unitPrice'], nestedObjects(5000)),
    invalid('nesting_too_deep'),
  );
  add(
    'a value of 100,000 nested []',
    'product',
    Buffer.from(nestedArrays(100_000, '')),
    invalid('nesting_too_deep'),
  );
  add(
    'an unknown field of 100,000 nested objects',
    'product',
    withRaw(product(), ['extra'], nestedObjects(100_000)),
    invalid('nesting_too_deep'),
  );

  // Numbers.
  add(
    'version 1e400',
    'product',
    withRaw(product(), ['version'], '1e400'),
    invalid('schema_violation'),
  );
  add(
    'version 2^53',
    'product',
    json({ ...product(), version: 2 ** 53 }),
    invalid('schema_violation'),
  );
  add(
    'price 1e400',
    'product',
    withRaw(product(), ['data', 'price'], '1e400'),
    invalid('schema_violation'),
  );
  add(
    'version "NaN"',
    'product',
    json({ ...product(), version: 'NaN' }),
    invalid('schema_violation'),
  );
  add(
    'price "Infinity"',
    'product',
    json(product({ price: 'Infinity' })),
    invalid('schema_violation'),
  );
  {
    const event = product({ price: 1, stock: 1 });
    accepted(
      'price -0 and stock -0 (stored as 0)',
      'product',
      event,
      Buffer.from(
        JSON.stringify(event).replace('"price":1', '"price":-0').replace('"stock":1', '"stock":-0'),
      ),
    );
  }

  // Text encodings.
  add(
    'a lone surrogate (JSON "\\ud800") in data.sku',
    'product',
    withRaw(product(), ['data', 'sku'], '"\\ud800"'),
    invalid('schema_violation'),
  );
  {
    const event = product();
    accepted(
      'a lone surrogate in an unknown field (ignored)',
      'product',
      event,
      withRaw(event, ['note'], '"\\udfff"'),
    );
  }
  add(
    'invalid UTF-8 bytes (0xC3 0x28) in data.name',
    'product',
    Buffer.concat([json(product()).subarray(0, 20), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    invalid('invalid_encoding'),
  );
  add(
    'a surrogate encoded as UTF-8 bytes (CESU-8, 0xED 0xA0 0x80)',
    'product',
    Buffer.from(
      json(product({ name: 'X' }))
        .toString('latin1')
        .replace('"X"', '"\u00ed\u00a0\u0080"'),
      'latin1',
    ),
    invalid('invalid_encoding'),
  );
  add(
    'a UTF-8 byte order mark before the JSON',
    'product',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(product())]),
    invalid('invalid_encoding'),
  );
  add(
    'the event in UTF-16LE with its BOM',
    'product',
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(product()), 'utf16le')]),
    invalid('invalid_encoding'),
  );
  add(
    'the event in UTF-16LE without a BOM',
    'product',
    Buffer.from(JSON.stringify(product()), 'utf16le'),
    invalid('invalid_json'),
  );

  // Values that are not one JSON object.
  add('an empty value (0 bytes)', 'product', Buffer.alloc(0), invalid('empty_message'));
  add('a null value (tombstone)', 'product', null, invalid('empty_message'));
  add('whitespace only', 'product', Buffer.from(' \n\t '), invalid('invalid_json'));
  add('the JSON scalar 42', 'product', Buffer.from('42'), invalid('schema_violation'));
  add('the JSON string "event"', 'product', Buffer.from('"event"'), invalid('schema_violation'));
  add('the JSON literal null', 'product', Buffer.from('null'), invalid('schema_violation'));
  add('a JSON array holding the event', 'product', json([product()]), invalid('schema_violation'));
  add(
    'truncated JSON (cut in the middle)',
    'product',
    json(product()).subarray(0, 60),
    invalid('invalid_json'),
  );

  // Duplicate keys: JSON.parse keeps the last one, and so does the service.
  {
    const event = product();
    add(
      'duplicate "version" keys, the last one a string',
      'product',
      Buffer.from(JSON.stringify(event).replace('"version":1', '"version":1,"version":"1"')),
      invalid('schema_violation'),
    );
  }
  {
    const event = product();
    accepted(
      'duplicate "version" keys, the last one valid',
      'product',
      event,
      Buffer.from(JSON.stringify(event).replace('"version":1', '"version":"x","version":1')),
    );
  }

  // Prototype keys.
  add(
    '"__proto__" at the top level',
    'product',
    Buffer.from(
      withRaw(product(), ['extra'], '{"admin":true}').toString().replace('"extra"', '"__proto__"'),
    ),
    invalid('unsafe_key'),
  );
  add(
    '"__proto__" in data',
    'product',
    Buffer.from(
      withRaw(product(), ['data', 'extra'], '{"admin":true}')
        .toString()
        .replace('"extra"', '"__proto__"'),
    ),
    invalid('unsafe_key'),
  );
  add(
    '"__proto__" inside an order item',
    'order',
    Buffer.from(
      withRaw(order(), ['data', 'items', '0', 'extra'], '{"admin":true}')
        .toString()
        .replace('"extra"', '"__proto__"'),
    ),
    invalid('unsafe_key'),
  );
  add(
    '"__proto__" spelled with \\u escapes, five levels down',
    'product',
    withRaw(product(), ['meta'], '{"a":{"b":{"c":{"\\u005f\\u005fproto\\u005f\\u005f":1}}}}'),
    invalid('unsafe_key'),
  );
  {
    const event = product();
    accepted(
      '"constructor" and "prototype" keys in the envelope and in data (ignored)',
      'product',
      event,
      Buffer.from(
        JSON.stringify(event)
          .replace('{', '{"constructor":{"prototype":{"admin":true}},')
          .replace('"data":{', '"data":{"prototype":1,"constructor":"x",'),
      ),
    );
  }

  // Very long strings in every field.
  for (const field of ['eventId', 'type', 'occurredAt']) {
    add(
      `${field} of ${LONG} characters`,
      'product',
      json({ ...product(), [field]: 'x'.repeat(LONG) }),
      invalid(field === 'type' ? 'type_mismatch' : 'schema_violation'),
    );
  }
  for (const field of ['sku', 'name', 'description', 'price', 'currency'])
    add(
      `data.${field} of ${LONG} characters`,
      'product',
      json(product({ [field]: '9'.repeat(LONG) })),
      invalid('schema_violation'),
    );
  add(
    `customer data.email of ${LONG} characters`,
    'customer',
    json(customer({ email: `${'a'.repeat(LONG)}@example.com` })),
    invalid('schema_violation'),
  );

  // Wrong types, field by field.
  const wrongTypes: [string, unknown][] = [
    ['eventId', 42],
    ['type', ['product.updated']],
    ['occurredAt', 1_763_633_730_123],
    ['version', '1'],
    ['data', 'the data'],
  ];
  for (const [field, value] of wrongTypes)
    add(
      `${field} as ${JSON.stringify(value)}`,
      'product',
      json({ ...product(), [field]: value }),
      invalid('schema_violation'),
    );
  const wrongData: [string, unknown][] = [
    ['id', '7'],
    ['sku', 7],
    ['price', true],
    ['currency', ['EUR']],
    ['stock', '10'],
    ['active', 'true'],
  ];
  for (const [field, value] of wrongData)
    add(
      `data.${field} as ${JSON.stringify(value)}`,
      'product',
      json(product({ [field]: value })),
      invalid('schema_violation'),
    );
  add(
    'order data.items as an object',
    'order',
    json(order({ items: { productId: 1 } })),
    invalid('schema_violation'),
  );
  add(
    'order item quantity "2"',
    'order',
    json(order({ items: [{ productId: 1, quantity: '2', unitPrice: '1.00' }] })),
    invalid('schema_violation'),
  );

  // Types that do not belong.
  add(
    'type customer.updated on the product topic',
    'product',
    json({ ...product(), type: 'customer.updated' }),
    invalid('type_mismatch'),
  );
  add(
    'type order.created on the customer topic',
    'customer',
    json({ ...customer(), type: 'order.created' }),
    invalid('type_mismatch'),
  );
  add(
    'the unknown type product.archived',
    'product',
    json({ ...product(), type: 'product.archived' }),
    invalid('type_mismatch'),
  );

  // Timestamps.
  add(
    'occurredAt without a zone',
    'product',
    json({ ...product(), occurredAt: '2026-11-20T10:15:30.123' }),
    invalid('schema_violation'),
  );
  add(
    'occurredAt on 2026-02-30',
    'product',
    json({ ...product(), occurredAt: '2026-02-30T10:15:30Z' }),
    invalid('schema_violation'),
  );
  add(
    'order placedAt at 24:00',
    'order',
    json(order({ placedAt: '2026-11-20T24:00:00Z' })),
    invalid('schema_violation'),
  );

  // Accepted as they are.
  {
    const event = product({ color: 'red', nested: { deep: [1, 2, { x: null }] } });
    accepted(
      'extra fields in the envelope and data (ignored)',
      'product',
      event,
      json({ ...event, traceId: 'abc' }),
    );
  }
  {
    const event = productEvent(nextId++, 1, {}, 'deleted');
    list.push({
      name: 'a deleted event whose other data fields are invalid (only data.id is read)',
      entity: 'product',
      value: json({ ...event, data: { id: event.data.id, price: 'not a price', sku: [] } }),
      expected: 'applied',
    });
  }
  return list;
}

/**
 * Hostile input, each kind followed on the same partition by a valid event that must be
 * applied: one stream per entity, sent in order, then checked kind by kind. Every invalid
 * message is dead-lettered exactly once (a sync_errors row and a <topic>.dlq message with the
 * original value and the x-* headers), nothing is retried, and nothing is logged at error level.
 */
describe('poison and hostile messages (real Kafka, MariaDB, Redis)', () => {
  const ctx = new TestContext();
  const all = kinds();
  const sent: Sent[] = [];
  const deadLetters = new Map<string, DeadLetterMessage[]>();
  const logs = new LogCapture();
  let service: RunningService;

  beforeAll(async () => {
    await ctx.setUp(1);
    service = await ctx.startService();
    const offsets: Record<EntityKind, number> = { product: 0, customer: 0, order: 0 };
    const followers: Record<EntityKind, (id: number) => TestEvent> = {
      product: (id) => productEvent(id, 1),
      customer: (id) => customerEvent(id, 1),
      order: (id) => orderEvent(id, 1),
    };
    // One message per send: the broker limits a record batch to 1 MiB, and some kinds are large.
    for (const kind of all) {
      const follower = followers[kind.entity](100_000 + sent.length);
      await ctx.publish(kind.entity, [{ raw: kind.value as Buffer, key: 'poison' }]);
      await ctx.publish(kind.entity, [follower], { key: 'poison' });
      sent.push({
        kind,
        offset: offsets[kind.entity],
        follower,
        followerOffset: offsets[kind.entity] + 1,
      });
      offsets[kind.entity] += 2;
    }
    const tables: Record<EntityKind, string> = {
      product: 'cms_products',
      customer: 'cms_customers',
      order: 'cms_orders',
    };
    await waitFor(
      'every follower applied',
      async () => {
        for (const entity of ['product', 'customer', 'order'] as const) {
          const ids = sent.filter((s) => s.kind.entity === entity).map((s) => s.follower.data.id);
          if (ids.length === 0) continue;
          const rows = await ctx.rows(`SELECT id FROM ${tables[entity]} WHERE id IN (?)`, [ids]);
          if (rows.length < ids.length) return false;
        }
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    await collectDeadLetters();
  }, 300_000);

  afterAll(async () => {
    logs.stop();
    await ctx.tearDown();
  });

  async function collectDeadLetters(): Promise<void> {
    const expected = sent.filter((s) => s.kind.expected !== 'applied').length;
    const letters = await readDeadLetters(
      `${ctx.groupId}-dlq-reader`,
      Object.values(ctx.topics).map((topic) => `${topic}.dlq`),
      expected,
    );
    for (const letter of letters) {
      const key = `${letter.headers['x-source-topic']}@${letter.headers['x-source-offset']}`;
      deadLetters.set(key, [...(deadLetters.get(key) ?? []), letter]);
    }
  }

  it(`sends at least 35 kinds (${all.length})`, () => {
    expect(all.length).toBeGreaterThanOrEqual(35);
  });

  it.each(all.map((kind) => [kind.name, kind] as const))(
    'sends %s, then a valid event: the right outcome, and the valid one applied',
    async (_name, kind) => {
      const entry = sent.find((s) => s.kind === kind) as Sent;
      const topic = ctx.topics[kind.entity];
      const errors = await ctx.rows<{
        error_type: string;
        error_message: string;
        payload: Buffer | null;
      }>(
        'SELECT error_type, error_message, payload FROM sync_errors WHERE topic = ? AND kafka_offset = ?',
        [topic, entry.offset],
      );
      const letters = deadLetters.get(`${topic}@${entry.offset}`) ?? [];
      if (kind.expected === 'applied') {
        expect(errors).toEqual([]);
        expect(letters).toEqual([]);
        if (kind.appliedId !== undefined) {
          const rows = await ctx.rows('SELECT id FROM cms_products WHERE id = ?', [kind.appliedId]);
          expect(rows).toHaveLength(1);
        }
      } else {
        expect(errors.map((e) => e.error_type)).toEqual([kind.expected.errorType]);
        expect(errors[0]?.error_message.length).toBeLessThanOrEqual(2100);
        // Buffer.equals, not toEqual: a deep comparison of 300 KB blocks the event loop the
        // in-process service heartbeats on.
        const original = kind.value ?? Buffer.alloc(0);
        const payload = Buffer.from(errors[0]?.payload ?? []);
        expect(payload.equals(original.subarray(0, 64 * 1024))).toBe(true);
        expect(letters).toHaveLength(1);
        const [letter] = letters;
        if (kind.value === null) expect(letter?.value).toBeNull();
        else expect(Buffer.from(letter?.value ?? []).equals(kind.value)).toBe(true);
        expect(letter?.headers).toMatchObject({
          'x-error-type': kind.expected.errorType,
          'x-error-message': errors[0]?.error_message,
          'x-source-topic': topic,
          'x-source-partition': '0',
          'x-source-offset': String(entry.offset),
        });
      }
      const follower = await ctx.rows(
        'SELECT event_id FROM processed_events WHERE topic = ? AND kafka_offset = ?',
        [topic, entry.followerOffset],
      );
      expect(follower).toEqual([{ event_id: entry.follower.eventId }]);
    },
  );

  it('retried nothing and logged no error-level line', async () => {
    const metrics = service.app.get(MetricsService);
    for (const entity of ['product', 'customer', 'order'] as const)
      expect(await metrics.eventCount(entity, 'failed')).toBe(0);
    const errorLines = logs
      .lines()
      .filter((line) => line.level === 'error' || line.level === 'fatal');
    expect(errorLines).toEqual([]);
    // The capture works: each dead letter logs one warn line.
    expect(logs.lines().some((line) => String(line.msg).startsWith('dead-lettered'))).toBe(true);
  });
});
