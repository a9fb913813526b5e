import { z } from 'zod';
import { InvalidEventError } from '../common/errors/invalid-event.error';
import type { EntityKind } from './entity-kind';
import type { EntityDataMap, IncomingMessage, SyncEvent } from './sync-event';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
const INT32_MAX = 2_147_483_647;
/** Keys that could reach an object's prototype if the payload were ever merged into one. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAYBE_UNSAFE = /__proto__|constructor|prototype|\\u/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const DECIMAL = /^\d{1,10}(\.\d{1,2})?$/;
const ACTIONS = ['created', 'updated', 'deleted'] as const;

/** Says "is required" for a missing field and the rule otherwise. */
const rule = (message: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message),
});

const codePoints = (s: string) => [...s].length;

const integer = (min: number, max: number) => {
  const message =
    max === Number.MAX_SAFE_INTEGER
      ? `must be an integer ≥ ${min}`
      : `must be an integer from ${min} to ${max}`;
  return z
    .number(rule(message))
    .refine((v) => Number.isSafeInteger(v) && v >= min && v <= max, message);
};

const id = integer(1, Number.MAX_SAFE_INTEGER);

const text = (min: number, max: number) => {
  const message =
    min > 0
      ? `must be a string of ${min} to ${max} characters`
      : `must be a string of at most ${max} characters`;
  // A lone surrogate cannot be stored in utf8mb4 as sent, so it is not text.
  return z.string(rule(message)).refine((s) => {
    const length = codePoints(s);
    return length >= min && length <= max && s.isWellFormed();
  }, message);
};

const optionalText = (max: number) =>
  text(0, max)
    .nullable()
    .optional()
    .transform((v) => v ?? null);

const decimalMessage = 'must be a decimal ≥ 0 and < 10^10 with at most 2 places';
const decimal = z
  .union([z.string(), z.number()], rule(decimalMessage))
  .refine((v) => DECIMAL.test(typeof v === 'number' ? String(v) : v), decimalMessage)
  .transform((v) => (typeof v === 'number' ? String(v) : v));

const currency = z
  .string(rule('must be 3 upper-case letters'))
  .regex(/^[A-Z]{3}$/, 'must be 3 upper-case letters');

const timestampMessage = 'must be an RFC 3339 timestamp with a zone, like 2026-11-20T10:15:30.123Z';
/** Checks the calendar too: `Date` would silently roll 2026-02-30 over to March. */
function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second, , offsetHour = 0, offsetMinute = 0] = m
    .slice(1)
    .map((part) => (part === undefined || part.startsWith('.') ? undefined : Number(part)));
  if (year === undefined || month === undefined || day === undefined) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const utcYear = new Date(s).getUTCFullYear();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59 &&
    utcYear >= 1000 &&
    utcYear <= 9999
  );
}

const timestamp = z
  .string(rule(timestampMessage))
  .refine(isRfc3339, timestampMessage)
  .transform((s) => new Date(s));

const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, rule(`must be one of ${values.join(', ')}`));

const productData = z.object({
  id,
  sku: text(1, 64),
  name: text(1, 255),
  description: optionalText(65_535),
  price: decimal,
  currency,
  stock: integer(0, INT32_MAX)
    .optional()
    .transform((v) => v ?? 0),
  active: z
    .boolean(rule('must be true or false'))
    .optional()
    .transform((v) => v ?? true),
});

const customerData = z.object({
  id,
  email: z
    .string(rule('must be an email address'))
    .refine(
      (s) => codePoints(s) <= 254 && /^[^@]+@[^@]+$/.test(s),
      'must be at most 254 characters with one @ and text on both sides',
    ),
  firstName: optionalText(100),
  lastName: optionalText(100),
  phone: optionalText(32),
  status: oneOf(['active', 'inactive', 'blocked'] as const)
    .optional()
    .transform((v) => v ?? 'active'),
});

const orderData = z.object({
  id,
  customerId: id,
  status: oneOf(['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const),
  currency,
  totalAmount: decimal,
  placedAt: timestamp,
  items: z
    .array(
      z.object(
        { productId: id, quantity: integer(1, INT32_MAX), unitPrice: decimal },
        rule('must be an object'),
      ),
      rule('must be an array of at most 1000 items'),
    )
    .max(1000, 'must be an array of at most 1000 items'),
});

const DATA_SCHEMAS: { [K in EntityKind]: z.ZodType<EntityDataMap[K]> } = {
  product: productData,
  customer: customerData,
  order: orderData,
};

const deletedData = z.object({ id });

const envelope = z.object({
  eventId: z
    .string(rule('must be a string'))
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -'),
  type: z.string(rule('must be a string')),
  occurredAt: timestamp,
  version: integer(1, Number.MAX_SAFE_INTEGER),
  data: z.record(z.string(), z.unknown(), rule('must be an object')),
});

function describe(input: unknown): string {
  const json = JSON.stringify(input);
  if (json === undefined) return String(input);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      const got =
        'input' in issue && issue.input !== undefined ? `, got ${describe(issue.input)}` : '';
      return `${path || 'value'}: ${issue.message}${got}`;
    })
    .join('; ');
}

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string, eventId: string | null): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) {
    throw new InvalidEventError(
      'schema_violation',
      formatIssues(result.error.issues, prefix),
      eventId,
    );
  }
  return result.data;
}

/** Decodes untrusted bytes: size first, strict UTF-8, then JSON that cannot reach a prototype. */
export function decodeJson(value: Buffer | null): unknown {
  if (value === null || value.length === 0) {
    throw new InvalidEventError('empty_message', 'message has no value');
  }
  if (value.length > MAX_MESSAGE_BYTES) {
    throw new InvalidEventError(
      'too_large',
      `message is ${value.length} bytes, more than the ${MAX_MESSAGE_BYTES} allowed`,
    );
  }
  let textValue: string;
  try {
    textValue = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    throw new InvalidEventError('invalid_encoding', 'message is not valid UTF-8');
  }
  try {
    // A reviver visits every key and makes parsing several times slower; only text that could
    // spell an unsafe key (literally, or through a \u escape) needs it.
    if (!MAYBE_UNSAFE.test(textValue)) return JSON.parse(textValue);
    return JSON.parse(textValue, function reviver(this: unknown, key: string, v: unknown) {
      if (UNSAFE_KEYS.has(key))
        throw new InvalidEventError('unsafe_key', `key "${key}" is not allowed`);
      return v;
    });
  } catch (err) {
    if (err instanceof InvalidEventError) throw err;
    throw new InvalidEventError(
      'invalid_json',
      `message is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/**
 * Validates one message against contract section 2 for the entity its topic carries.
 * Only known fields are copied out; anything else in the payload is ignored and never stored.
 * Throws InvalidEventError with a message an operator can act on.
 */
export function parseEvent(kind: EntityKind, message: IncomingMessage): SyncEvent {
  const json = decodeJson(message.value);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidEventError(
      'schema_violation',
      `value: must be a JSON object, got ${describe(json)}`,
    );
  }
  const rawId = (json as { eventId?: unknown }).eventId;
  const hintId = typeof rawId === 'string' && rawId.length <= 128 ? rawId : null;
  const head = parse(envelope, json, '', hintId);

  const action = ACTIONS.find((a) => head.type === `${kind}.${a}`);
  if (action === undefined) {
    throw new InvalidEventError(
      'type_mismatch',
      `type: "${head.type}" does not belong on ${message.topic}, which carries ${ACTIONS.map((a) => `${kind}.${a}`).join(', ')}`,
      head.eventId,
    );
  }

  const header = {
    eventId: head.eventId,
    type: head.type,
    version: head.version,
    occurredAt: head.occurredAt,
    origin: { topic: message.topic, partition: message.partition, offset: message.offset },
  };
  if (action === 'deleted') {
    const { id: entityId } = parse(deletedData, head.data, 'data', head.eventId);
    return { ...header, kind, entityId, action: 'delete' };
  }
  const schema: z.ZodType<EntityDataMap[EntityKind]> = DATA_SCHEMAS[kind];
  const data = parse(schema, head.data, 'data', head.eventId);
  return { ...header, kind, entityId: data.id, action: 'upsert', data } as SyncEvent;
}
