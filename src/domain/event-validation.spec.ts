import { InvalidEventError, type InvalidEventType } from '../common/errors/invalid-event.error';
import type { EntityKind } from './entity-kind';
import {
  MAX_MESSAGE_BYTES,
  MAX_NESTING_DEPTH,
  decodeJson,
  parseEvent,
  validateEvent,
} from './event-validation';
import type { IncomingMessage, SyncEvent } from './sync-event';

const TOPICS: Record<EntityKind, string> = {
  product: 'product.changed',
  customer: 'customer.changed',
  order: 'order.changed',
};

const EVENT_ID = '3f0c9a2e-1b7d-4e1a-9b1e-5d2f8c7a6b10';
const OCCURRED_AT = '2026-11-20T10:15:30.123Z';

function rawMessage(value: Buffer | null, topic = TOPICS.product): IncomingMessage {
  return { topic, partition: 0, offset: '5', key: Buffer.from('42'), value };
}

function message(body: unknown, topic = TOPICS.product): IncomingMessage {
  return rawMessage(Buffer.from(JSON.stringify(body)), topic);
}

function envelope(kind: EntityKind, data: Record<string, unknown>, overrides = {}) {
  return {
    eventId: EVENT_ID,
    type: `${kind}.updated`,
    occurredAt: OCCURRED_AT,
    version: 7,
    data,
    ...overrides,
  };
}

const productData = {
  id: 42,
  sku: 'TSHIRT-RED-M',
  name: 'Red T-shirt M',
  description: 'Soft cotton',
  price: '19.99',
  currency: 'EUR',
  stock: 120,
  active: false,
};

const customerData = {
  id: 7,
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  phone: '+44 20 7946 0000',
  status: 'blocked',
};

const orderData = {
  id: 1001,
  customerId: 7,
  status: 'paid',
  currency: 'EUR',
  totalAmount: '39.98',
  placedAt: '2026-11-20T12:15:30.500+02:00',
  items: [
    { productId: 42, quantity: 2, unitPrice: '19.99' },
    { productId: 43, quantity: 1, unitPrice: 0 },
  ],
};

const origin = (kind: EntityKind) => ({ topic: TOPICS[kind], partition: 0, offset: '5' });

function parseProduct(data: Record<string, unknown>, overrides = {}): SyncEvent {
  return parseEvent('product', message(envelope('product', data, overrides)));
}

/** Runs parseEvent and returns the InvalidEventError it must throw. */
function invalid(kind: EntityKind, msg: IncomingMessage): InvalidEventError {
  try {
    parseEvent(kind, msg);
  } catch (err) {
    if (err instanceof InvalidEventError) return err;
    throw err;
  }
  throw new Error('expected an InvalidEventError, but the event was accepted');
}

function expectInvalid(
  kind: EntityKind,
  msg: IncomingMessage,
  errorType: InvalidEventType,
  messagePart: string,
): InvalidEventError {
  const error = invalid(kind, msg);
  expect(error.errorType).toBe(errorType);
  expect(error.message).toContain(messagePart);
  expect(error.retriable).toBe(false);
  return error;
}

function invalidProduct(data: Record<string, unknown>, messagePart: string, overrides = {}) {
  return expectInvalid(
    'product',
    message(envelope('product', data, overrides)),
    'schema_violation',
    messagePart,
  );
}

/** JSON text with a key that a JS object literal would not keep as an own property. */
function withRawKeyInData(key: string): Buffer {
  return Buffer.from(
    `{"eventId":"${EVENT_ID}","type":"product.updated","occurredAt":"${OCCURRED_AT}","version":7,` +
      `"data":{"id":42,"sku":"S","name":"N","price":"1.00","currency":"EUR","nested":{"${key}":{"admin":true}}}}`,
  );
}

describe('parseEvent: valid events', () => {
  it('parses a full product event into the expected SyncEvent', () => {
    expect(parseProduct(productData)).toStrictEqual({
      kind: 'product',
      action: 'upsert',
      eventId: EVENT_ID,
      type: 'product.updated',
      entityId: 42,
      version: 7,
      occurredAt: new Date(OCCURRED_AT),
      origin: origin('product'),
      data: productData,
    });
  });

  it('fills product defaults: stock absent → 0, active absent → true, description absent → null', () => {
    const { id, sku, name, price, currency } = productData;
    const event = parseProduct({ id, sku, name, price, currency });
    expect(event).toMatchObject({
      data: { id, sku, name, price, currency, stock: 0, active: true, description: null },
    });
  });

  it('keeps description: null as null', () => {
    expect(parseProduct({ ...productData, description: null })).toMatchObject({
      data: { description: null },
    });
  });

  it('turns a JSON number price 19.9 into the string "19.9"', () => {
    expect(parseProduct({ ...productData, price: 19.9 })).toMatchObject({
      data: { price: '19.9' },
    });
  });

  it('accepts the largest price, "9999999999.99"', () => {
    expect(parseProduct({ ...productData, price: '9999999999.99' })).toMatchObject({
      data: { price: '9999999999.99' },
    });
  });

  it('treats product.created like product.updated', () => {
    expect(parseProduct(productData, { type: 'product.created' })).toMatchObject({
      type: 'product.created',
      action: 'upsert',
    });
  });

  it('parses a customer event', () => {
    const event = parseEvent(
      'customer',
      message(envelope('customer', customerData), TOPICS.customer),
    );
    expect(event).toStrictEqual({
      kind: 'customer',
      action: 'upsert',
      eventId: EVENT_ID,
      type: 'customer.updated',
      entityId: 7,
      version: 7,
      occurredAt: new Date(OCCURRED_AT),
      origin: origin('customer'),
      data: customerData,
    });
  });

  it('fills customer defaults: status absent → "active", names and phone absent → null', () => {
    const event = parseEvent(
      'customer',
      message(envelope('customer', { id: 7, email: 'a@b' }), TOPICS.customer),
    );
    expect(event).toMatchObject({
      data: {
        id: 7,
        email: 'a@b',
        firstName: null,
        lastName: null,
        phone: null,
        status: 'active',
      },
    });
  });

  it('parses an order event: items mapped in order, placedAt with +02:00 becomes the UTC instant', () => {
    const event = parseEvent('order', message(envelope('order', orderData), TOPICS.order));
    expect(event).toStrictEqual({
      kind: 'order',
      action: 'upsert',
      eventId: EVENT_ID,
      type: 'order.updated',
      entityId: 1001,
      version: 7,
      occurredAt: new Date(OCCURRED_AT),
      origin: origin('order'),
      data: {
        id: 1001,
        customerId: 7,
        status: 'paid',
        currency: 'EUR',
        totalAmount: '39.98',
        placedAt: new Date('2026-11-20T10:15:30.500Z'),
        items: [
          { productId: 42, quantity: 2, unitPrice: '19.99' },
          { productId: 43, quantity: 1, unitPrice: '0' },
        ],
      },
    });
    if (event.kind !== 'order' || event.action !== 'upsert') throw new Error('not an order upsert');
    expect(event.data.placedAt.toISOString()).toBe('2026-11-20T10:15:30.500Z');
  });

  it('accepts an order with no items and one with exactly 1000 items', () => {
    const none = parseEvent(
      'order',
      message(envelope('order', { ...orderData, items: [] }), TOPICS.order),
    );
    expect(none).toMatchObject({ data: { items: [] } });

    const items = Array.from({ length: 1000 }, (_, i) => ({
      productId: i + 1,
      quantity: 1,
      unitPrice: '1.00',
    }));
    const full = parseEvent(
      'order',
      message(envelope('order', { ...orderData, items }), TOPICS.order),
    );
    if (full.kind !== 'order' || full.action !== 'upsert') throw new Error('not an order upsert');
    expect(full.data.items).toHaveLength(1000);
    expect(full.data.items[999]).toEqual({ productId: 1000, quantity: 1, unitPrice: '1.00' });
  });

  it('converts occurredAt with an offset to the same instant', () => {
    const event = parseProduct(productData, { occurredAt: '2026-11-20T12:15:30.123+02:00' });
    expect(event.occurredAt.toISOString()).toBe(OCCURRED_AT);
  });

  it('reads 2,000 generated occurredAt values as the same instant as Date parses them', () => {
    // Years 1000-9999, leap days, zones from -23:59 to +23:59 and Z or z, 0-9 fraction digits.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    for (let i = 0; i < 2000; i++) {
      const year = 1001 + next(8998);
      const month = 1 + next(12);
      const day = 1 + next(month === 2 ? 29 : 28);
      const fraction = next(10) === 0 ? '' : `.${String(next(1e9)).padStart(9, '0')}`;
      const zones = [
        'Z',
        'z',
        `+${pad(next(24))}:${pad(next(60))}`,
        `-${pad(next(24))}:${pad(next(60))}`,
      ];
      const zone = zones[next(4)] as string;
      const occurredAt = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(next(24))}:${pad(next(60))}:${pad(next(60))}${fraction.slice(0, 1 + next(10))}${zone}`;
      const expected = new Date(occurredAt);
      if (Number.isNaN(expected.getTime())) continue;
      expect([
        occurredAt,
        parseProduct(productData, { occurredAt }).occurredAt.toISOString(),
      ]).toEqual([occurredAt, expected.toISOString()]);
    }
  });

  it('accepts and rejects occurredAt exactly as the regular expression it replaced, over 40,000 mutated values', () => {
    // The regular expression and calendar checks that read timestamps before, as the oracle.
    const RFC3339 =
      /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
    const oracle = (value: string): string | undefined => {
      const m = RFC3339.exec(value);
      if (!m) return undefined;
      const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m
        .slice(1, 7)
        .map(Number);
      const [offsetHours, offsetMinutes] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
      if (year < 100 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
        return undefined;
      }
      if (offsetHours > 23 || offsetMinutes > 59) return undefined;
      const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
      const offset = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
      const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset);
      const utcYear = date.getUTCFullYear();
      return utcYear >= 1000 && utcYear <= 9999 ? date.toISOString() : undefined;
    };
    const read = (occurredAt: string): string | undefined => {
      try {
        return parseProduct(productData, { occurredAt }).occurredAt.toISOString();
      } catch (err) {
        expect((err as InvalidEventError).message).toContain('occurredAt: must be an RFC 3339');
        return undefined;
      }
    };
    const seeds = [
      '2026-11-20T10:15:30.123Z',
      '2024-02-29t23:59:59z',
      '2026-11-20 10:15:30+02:00',
      '0999-12-31T23:59:59.999999999-23:59',
      '9999-12-31T23:59:59.1+00:00',
      '2026-01-01T00:00:00.12345678Z',
      '2026-01-01T00:00:00.123456789z',
    ];
    const alphabet = '0123456789-+:.TtZz 5x_/\u0660';
    let seed = 11;
    // The generator's high bits: its low bits repeat with a short period.
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    let accepted = 0;
    for (let i = 0; i < 40_000; i++) {
      let value = seeds[next(seeds.length)] as string;
      for (let edits = 1 + next(2); edits > 0; edits--) {
        const at = next(value.length + 1);
        const char = alphabet[next(alphabet.length)] as string;
        const edit = next(3);
        if (edit === 0) value = value.slice(0, at) + char + value.slice(at + 1);
        else if (edit === 1) value = value.slice(0, at) + char + value.slice(at);
        else value = value.slice(0, at) + value.slice(at + 1);
      }
      const want = oracle(value);
      if (want !== undefined) accepted++;
      expect([value, read(value)]).toEqual([value, want]);
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(2000);
    expect(accepted).toBeLessThan(36_000);
  });

  it('does not copy unknown extra fields out of the envelope, data or order items', () => {
    const product = parseProduct(
      { ...productData, color: 'red', internalNote: 'x' },
      { traceId: 'abc', headers: { a: 1 } },
    );
    expect(product).not.toHaveProperty('traceId');
    expect(product).not.toHaveProperty('headers');
    if (product.action !== 'upsert') throw new Error('not an upsert');
    expect(Object.keys(product.data).sort()).toEqual([
      'active',
      'currency',
      'description',
      'id',
      'name',
      'price',
      'sku',
      'stock',
    ]);

    const order = parseEvent(
      'order',
      message(
        envelope('order', {
          ...orderData,
          coupon: 'X',
          items: [{ productId: 1, quantity: 1, unitPrice: '1.00', note: 'gift' }],
        }),
        TOPICS.order,
      ),
    );
    if (order.kind !== 'order' || order.action !== 'upsert') throw new Error('not an order upsert');
    expect(order.data).not.toHaveProperty('coupon');
    expect(order.data.items[0]).toStrictEqual({ productId: 1, quantity: 1, unitPrice: '1.00' });
  });

  it('accepts a sku of 64 emoji (64 code points, 128 UTF-16 units)', () => {
    const sku = '😀'.repeat(64);
    expect(sku.length).toBe(128);
    expect(parseProduct({ ...productData, sku })).toMatchObject({ data: { sku } });
  });

  it('accepts an eventId of exactly 128 allowed characters', () => {
    const eventId = `a.b_c:d-${'x'.repeat(120)}`;
    expect(eventId).toHaveLength(128);
    expect(parseProduct(productData, { eventId }).eventId).toBe(eventId);
  });

  it('accepts version 2^53 - 1', () => {
    expect(parseProduct(productData, { version: Number.MAX_SAFE_INTEGER }).version).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('accepts a message of exactly 1 MiB', () => {
    const json = JSON.stringify(envelope('product', productData));
    const padded = Buffer.alloc(MAX_MESSAGE_BYTES, 0x20);
    padded.write(json, 0, 'utf8');
    expect(parseEvent('product', rawMessage(padded))).toMatchObject({ entityId: 42 });
  });

  it('parses a deleted event that carries only data.id', () => {
    const event = parseEvent(
      'order',
      message(envelope('order', { id: 1001 }, { type: 'order.deleted' }), TOPICS.order),
    );
    expect(event).toStrictEqual({
      kind: 'order',
      action: 'delete',
      eventId: EVENT_ID,
      type: 'order.deleted',
      entityId: 1001,
      version: 7,
      occurredAt: new Date(OCCURRED_AT),
      origin: origin('order'),
    });
  });

  it('reads only data.id of a deleted event: other data fields, even invalid ones, are ignored', () => {
    const event = parseProduct(
      { id: 42, price: 'not a price', sku: '' },
      { type: 'product.deleted' },
    );
    expect(event).toMatchObject({ action: 'delete', entityId: 42 });
    expect(event).not.toHaveProperty('data');
  });
});

describe('decodeJson', () => {
  it('returns the parsed JSON of a valid UTF-8 value', () => {
    expect(decodeJson(Buffer.from('{"a":[1,"é"]}'))).toEqual({ a: [1, 'é'] });
  });

  it('rejects a top-level "__proto__" key (raw JSON text) with an InvalidEventError', () => {
    expect(() => decodeJson(Buffer.from('{"__proto__":{"polluted":true}}'))).toThrow(
      new InvalidEventError('unsafe_key', 'key "__proto__" is not allowed'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseEvent: invalid messages', () => {
  it('sends text that is not JSON → invalid_json', () => {
    expectInvalid(
      'product',
      rawMessage(Buffer.from('{"eventId": ')),
      'invalid_json',
      'message is not valid JSON',
    );
  });

  it('sends a null value (Kafka tombstone) → empty_message', () => {
    expectInvalid('product', rawMessage(null), 'empty_message', 'message has no value');
  });

  it('sends an empty value (0 bytes) → empty_message', () => {
    expectInvalid('product', rawMessage(Buffer.alloc(0)), 'empty_message', 'message has no value');
  });

  it('sends the JSON text null → schema_violation "must be a JSON object"', () => {
    expectInvalid(
      'product',
      rawMessage(Buffer.from('null')),
      'schema_violation',
      'value: must be a JSON object, got null',
    );
  });

  it('sends 1 MiB + 1 bytes → too_large, naming both sizes', () => {
    const error = expectInvalid(
      'product',
      rawMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)),
      'too_large',
      '1048577 bytes',
    );
    expect(error.message).toContain('1048576');
  });

  it('sends invalid UTF-8 bytes (0xC3 0x28) inside a JSON string → invalid_encoding', () => {
    const value = Buffer.concat([
      Buffer.from('{"eventId":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    expectInvalid('product', rawMessage(value), 'invalid_encoding', 'not valid UTF-8');
  });

  it('sends a JSON array → schema_violation "must be a JSON object"', () => {
    expectInvalid(
      'product',
      message([envelope('product', productData)]),
      'schema_violation',
      'value: must be a JSON object, got [',
    );
  });

  it('sends a "__proto__" key nested in data (raw JSON text) → unsafe_key', () => {
    expectInvalid(
      'product',
      rawMessage(withRawKeyInData('__proto__')),
      'unsafe_key',
      '"__proto__"',
    );
  });

  it.each(['constructor', 'prototype'])(
    'sends a "%s" key nested in data → accepted, the unknown field not copied out',
    (key) => {
      const event = parseEvent('product', rawMessage(withRawKeyInData(key)));
      if (event.action !== 'upsert') throw new Error('not an upsert');
      expect(event.data).not.toHaveProperty('nested');
      expect(Object.hasOwn(event.data, key)).toBe(false);
    },
  );

  it('sends "__proto__" three levels down in an unknown field → unsafe_key', () => {
    const value = Buffer.from(
      JSON.stringify(envelope('product', productData, { meta: { a: [{ b: 1 }] } })).replace(
        '"b":1',
        '"__proto__":{"admin":true}',
      ),
    );
    expectInvalid('product', rawMessage(value), 'unsafe_key', '"__proto__"');
  });

  it('sends type customer.updated on the product topic → type_mismatch naming type and topic', () => {
    const error = expectInvalid(
      'product',
      message(envelope('product', productData, { type: 'customer.updated' })),
      'type_mismatch',
      '"customer.updated" does not belong on product.changed',
    );
    expect(error.message).toContain('product.created, product.updated, product.deleted');
    expect(error.eventId).toBe(EVENT_ID);
  });

  it('sends type "product.changed" (not an action) → type_mismatch', () => {
    expectInvalid(
      'product',
      message(envelope('product', productData, { type: 'product.changed' })),
      'type_mismatch',
      '"product.changed"',
    );
  });

  it('sends eventId "evt 1/2" with a space and a slash → schema_violation on eventId', () => {
    invalidProduct(
      productData,
      'eventId: must be 1-128 characters of A-Z a-z 0-9 . _ : -, got "evt 1/2"',
      {
        eventId: 'evt 1/2',
      },
    );
  });

  it('sends an eventId of 129 characters → schema_violation on eventId', () => {
    invalidProduct(productData, 'eventId: must be 1-128 characters', { eventId: 'a'.repeat(129) });
  });

  it('sends an empty eventId → schema_violation on eventId', () => {
    invalidProduct(productData, 'eventId: must be 1-128 characters', { eventId: '' });
  });

  it('sends version 0 → schema_violation on version', () => {
    invalidProduct(productData, 'version: must be an integer ≥ 1, got 0', { version: 0 });
  });

  it('sends version 1.5 → schema_violation on version', () => {
    invalidProduct(productData, 'version: must be an integer ≥ 1, got 1.5', { version: 1.5 });
  });

  it('sends version 2^53 → schema_violation on version', () => {
    invalidProduct(productData, 'version: must be an integer ≥ 1, got 9007199254740992', {
      version: 2 ** 53,
    });
  });

  it('sends version as the string "7" → schema_violation on version', () => {
    invalidProduct(productData, 'version: must be an integer ≥ 1, got "7"', { version: '7' });
  });

  it('sends occurredAt "2026-11-20T10:15:30" without a zone → schema_violation on occurredAt', () => {
    invalidProduct(
      productData,
      'occurredAt: must be an RFC 3339 timestamp with a zone, like 2026-11-20T10:15:30.123Z, got "2026-11-20T10:15:30"',
      { occurredAt: '2026-11-20T10:15:30' },
    );
  });

  it('sends occurredAt "2026-13-01T00:00:00Z" (month 13) → schema_violation on occurredAt', () => {
    invalidProduct(productData, 'occurredAt: must be an RFC 3339 timestamp', {
      occurredAt: '2026-13-01T00:00:00Z',
    });
  });

  it('sends data as an array → schema_violation "data: must be an object"', () => {
    invalidProduct({}, 'data: must be an object, got [1]', { data: [1] });
  });

  it('sends price "1.999" → the exact operator message', () => {
    const error = invalid(
      'product',
      message(envelope('product', { ...productData, price: '1.999' })),
    );
    expect(error.errorType).toBe('schema_violation');
    expect(error.message).toBe(
      'data.price: must be a decimal ≥ 0 and < 10^10 with at most 2 places, got "1.999"',
    );
    expect(error.eventId).toBe(EVENT_ID);
  });

  it('sends price -1 → schema_violation on data.price', () => {
    invalidProduct(
      { ...productData, price: -1 },
      'data.price: must be a decimal ≥ 0 and < 10^10 with at most 2 places, got -1',
    );
  });

  it('sends price 1e10 (JSON number) → schema_violation on data.price', () => {
    invalidProduct(
      { ...productData, price: 1e10 },
      'data.price: must be a decimal ≥ 0 and < 10^10 with at most 2 places, got 10000000000',
    );
  });

  it('sends price "10000000000" (string, 10^10) → schema_violation on data.price', () => {
    invalidProduct({ ...productData, price: '10000000000' }, 'data.price: must be a decimal');
  });

  it('sends price 0.1 + 0.2 (a float with many places) → schema_violation on data.price', () => {
    invalidProduct({ ...productData, price: 0.1 + 0.2 }, 'data.price: must be a decimal');
  });

  it('sends currency "eur" → schema_violation on data.currency', () => {
    invalidProduct(
      { ...productData, currency: 'eur' },
      'data.currency: must be 3 upper-case letters, got "eur"',
    );
  });

  it('sends a sku of 65 characters → schema_violation on data.sku', () => {
    invalidProduct(
      { ...productData, sku: 'S'.repeat(65) },
      'data.sku: must be a string of 1 to 64 characters',
    );
  });

  it('sends a sku of 65 emoji → schema_violation on data.sku', () => {
    invalidProduct(
      { ...productData, sku: '😀'.repeat(65) },
      'data.sku: must be a string of 1 to 64 characters',
    );
  });

  it('sends stock -1 → schema_violation on data.stock', () => {
    invalidProduct(
      { ...productData, stock: -1 },
      'data.stock: must be an integer from 0 to 2147483647, got -1',
    );
  });

  it('sends active "yes" → schema_violation on data.active', () => {
    invalidProduct(
      { ...productData, active: 'yes' },
      'data.active: must be true or false, got "yes"',
    );
  });

  it('leaves out required data.name → "data.name: is required" with no "got"', () => {
    const withoutName: Record<string, unknown> = { ...productData };
    delete withoutName.name;
    const error = invalidProduct(withoutName, 'data.name: is required');
    expect(error.message).toBe('data.name: is required');
  });

  it('leaves out required occurredAt → "occurredAt: is required"', () => {
    invalidProduct(productData, 'occurredAt: is required', { occurredAt: undefined });
  });

  it('sends an email without @ → schema_violation on data.email', () => {
    expectInvalid(
      'customer',
      message(envelope('customer', { ...customerData, email: 'ada.example.com' }), TOPICS.customer),
      'schema_violation',
      'data.email: must be at most 254 characters with one @ and text on both sides, got "ada.example.com"',
    );
  });

  it('sends an email with two @ → schema_violation on data.email', () => {
    expectInvalid(
      'customer',
      message(envelope('customer', { ...customerData, email: 'a@b@c' }), TOPICS.customer),
      'schema_violation',
      'data.email: must be at most 254 characters with one @',
    );
  });

  it('sends an email with nothing before the @ → schema_violation on data.email', () => {
    expectInvalid(
      'customer',
      message(envelope('customer', { ...customerData, email: '@example.com' }), TOPICS.customer),
      'schema_violation',
      'data.email:',
    );
  });

  it('sends customer status "unknown" → schema_violation listing the allowed values', () => {
    expectInvalid(
      'customer',
      message(envelope('customer', { ...customerData, status: 'unknown' }), TOPICS.customer),
      'schema_violation',
      'data.status: must be one of active, inactive, blocked, got "unknown"',
    );
  });

  it('sends an order with 1001 items → schema_violation on data.items', () => {
    const items = Array.from({ length: 1001 }, () => ({
      productId: 1,
      quantity: 1,
      unitPrice: '1.00',
    }));
    expectInvalid(
      'order',
      message(envelope('order', { ...orderData, items }), TOPICS.order),
      'schema_violation',
      'data.items: must be an array of at most 1000 items',
    );
  });

  it('sends an order item with quantity 0 → schema_violation naming the item path', () => {
    expectInvalid(
      'order',
      message(
        envelope('order', {
          ...orderData,
          items: [{ productId: 1, quantity: 0, unitPrice: '1.00' }],
        }),
        TOPICS.order,
      ),
      'schema_violation',
      'data.items.0.quantity: must be an integer from 1 to 2147483647, got 0',
    );
  });

  it('sends an order item with quantity 2^31 → schema_violation on the item quantity', () => {
    expectInvalid(
      'order',
      message(
        envelope('order', {
          ...orderData,
          items: [
            { productId: 1, quantity: 1, unitPrice: '1.00' },
            { productId: 2, quantity: 2 ** 31, unitPrice: '1.00' },
          ],
        }),
        TOPICS.order,
      ),
      'schema_violation',
      'data.items.1.quantity: must be an integer from 1 to 2147483647, got 2147483648',
    );
  });

  it('sends an order status "lost" → schema_violation on data.status', () => {
    expectInvalid(
      'order',
      message(envelope('order', { ...orderData, status: 'lost' }), TOPICS.order),
      'schema_violation',
      'data.status: must be one of pending, paid, shipped, delivered, cancelled, refunded',
    );
  });

  it('sends a deleted event whose data has no id → "data.id: is required"', () => {
    const error = expectInvalid(
      'product',
      message(envelope('product', { sku: 'S' }, { type: 'product.deleted' })),
      'schema_violation',
      'data.id: is required',
    );
    expect(error.eventId).toBe(EVENT_ID);
  });

  it('sends a deleted event with data.id 0 → schema_violation on data.id', () => {
    expectInvalid(
      'product',
      message(envelope('product', { id: 0 }, { type: 'product.deleted' })),
      'schema_violation',
      'data.id: must be an integer ≥ 1, got 0',
    );
  });
});

describe('parseEvent: calendar and text checks', () => {
  const invalid = (body: unknown) => {
    try {
      parseEvent('product', message(body));
    } catch (err) {
      return err as InvalidEventError;
    }
    throw new Error('expected the event to be invalid');
  };

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-03T24:00:00Z',
    '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:00+24:00',
  ])('rejects the impossible occurredAt %s instead of rolling it over', (occurredAt) => {
    const error = invalid(envelope('product', productData, { occurredAt }));
    expect(error.errorType).toBe('schema_violation');
    expect(error.message).toContain('occurredAt: must be an RFC 3339 timestamp');
  });

  it('accepts 29 February of a leap year', () => {
    const event = parseEvent(
      'product',
      message(envelope('product', productData, { occurredAt: '2024-02-29T23:59:59Z' })),
    );
    expect(event.occurredAt.toISOString()).toBe('2024-02-29T23:59:59.000Z');
  });

  it('rejects a sku holding a lone surrogate (JSON "\\ud800"), which utf8mb4 cannot store as sent', () => {
    const error = invalid(envelope('product', { ...productData, sku: '\ud800' }));
    expect(error.message).toContain('data.sku: must be a string of 1 to 64 characters');
  });
});

describe('decodeJson: unsafe keys spelled with escapes', () => {
  it('rejects "__proto__" written as "\\u005f\\u005fproto\\u005f\\u005f"', () => {
    const text = '{"data":{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}}';
    expect(() => decodeJson(Buffer.from(text))).toThrow('key "__proto__" is not allowed');
  });

  it('accepts a text value that merely mentions constructor', () => {
    expect(decodeJson(Buffer.from('{"name":"constructor kit"}'))).toEqual({
      name: 'constructor kit',
    });
  });
});

describe('parseEvent: hostile input is bounded', () => {
  const nested = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
  const withVersion = (version: string) =>
    Buffer.from(
      JSON.stringify(envelope('product', productData)).replace(
        '"version":7',
        `"version":${version}`,
      ),
    );

  it('sends a version nested 5,000 arrays deep → nesting_too_deep naming version, quickly', () => {
    const started = performance.now();
    const error = expectInvalid(
      'product',
      rawMessage(withVersion(nested(5000))),
      'nesting_too_deep',
      `version: nests deeper than ${MAX_NESTING_DEPTH} levels`,
    );
    expect(error.eventId).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('sends a value of 100,000 nested [] → nesting_too_deep', () => {
    expectInvalid(
      'product',
      rawMessage(Buffer.from(nested(100_000, ''))),
      'nesting_too_deep',
      'value: nests deeper',
    );
  });

  it(`accepts unknown fields nested ${MAX_NESTING_DEPTH} levels deep in all, and names a deeper data field`, () => {
    const ok = Buffer.from(
      JSON.stringify(envelope('product', productData)).replace(
        '"data":{',
        `"data":{"extra":${nested(MAX_NESTING_DEPTH - 2)},`,
      ),
    );
    expect(parseEvent('product', rawMessage(ok))).toMatchObject({ entityId: 42 });
    const deep = Buffer.from(
      JSON.stringify(envelope('product', productData)).replace(
        '"data":{',
        `"data":{"extra":${nested(MAX_NESTING_DEPTH)},`,
      ),
    );
    expectInvalid('product', rawMessage(deep), 'nesting_too_deep', 'data.extra: nests deeper');
  });

  it('sends a sku nested 100 arrays deep within the limit of a lower one → a bounded "got"', () => {
    const error = invalidProduct(
      { ...productData, sku: [[[[[['x'.repeat(10_000)]]]]]] },
      'data.sku:',
    );
    expect(error.message).toMatch(/got \[\[\[\[\[\["x+\.\.\.$/);
    expect(error.message.length).toBeLessThan(200);
  });

  it('sends version 1e400 (Infinity once parsed) → schema_violation showing Infinity', () => {
    expectInvalid(
      'product',
      rawMessage(withVersion('1e400')),
      'schema_violation',
      'version: must be an integer ≥ 1, got Infinity',
    );
  });

  it('sends price -0 and stock -0 → accepted as 0', () => {
    const value = Buffer.from(
      JSON.stringify(envelope('product', { ...productData, price: 1, stock: 1 }))
        .replace('"price":1', '"price":-0')
        .replace('"stock":1', '"stock":-0'),
    );
    expect(parseEvent('product', rawMessage(value))).toMatchObject({
      data: { price: '0', stock: 0 },
    });
  });

  it('sends a UTF-8 byte order mark before the JSON → invalid_encoding', () => {
    const value = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify(envelope('product', productData))),
    ]);
    expectInvalid('product', rawMessage(value), 'invalid_encoding', 'byte order mark');
  });

  it('sends the event as UTF-16LE with its BOM → invalid_encoding', () => {
    const value = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(JSON.stringify(envelope('product', productData)), 'utf16le'),
    ]);
    expectInvalid('product', rawMessage(value), 'invalid_encoding', 'not valid UTF-8');
  });

  it('sends an eventId that is not ASCII → the error carries no event id (sync_errors.event_id is ASCII)', () => {
    const error = invalidProduct(productData, 'eventId: must be 1-128 characters', {
      eventId: 'évènement',
    });
    expect(error.eventId).toBeNull();
  });

  it('sends type as a 1 MiB string → a bounded type_mismatch message', () => {
    const error = expectInvalid(
      'product',
      message(envelope('product', productData, { type: 't'.repeat(1_000_000) })),
      'type_mismatch',
      'does not belong on product.changed',
    );
    expect(error.message.length).toBeLessThan(300);
  });

  it('reports at most five issues, in field order', () => {
    const error = invalidProduct(
      { id: 0, sku: '', name: '', price: 'x', currency: 'x', stock: -1, active: 'x' },
      'data.id:',
    );
    expect(error.message.split('; ').map((issue) => issue.split(':')[0])).toEqual([
      'data.id',
      'data.sku',
      'data.name',
      'data.price',
      'data.currency',
    ]);
  });
});

describe('validateEvent', () => {
  it('returns the event for a valid message and the error for an invalid one, never throws', () => {
    expect(validateEvent('product', message(envelope('product', productData)))).toMatchObject({
      entityId: 42,
    });
    const error = validateEvent('product', rawMessage(Buffer.from('{')));
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ errorType: 'invalid_json' });
  });

  it('turns anything else decoding throws into validation_crashed, not a retriable error', () => {
    const broken = { length: 5 } as unknown as Buffer;
    const error = validateEvent('product', rawMessage(broken));
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ errorType: 'validation_crashed', retriable: false });
    expect((error as InvalidEventError).message).toMatch(
      /^validating the message failed: \w*Error/,
    );
  });
});
