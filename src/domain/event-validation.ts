import { isUtf8 } from 'node:buffer';
import { InvalidEventError } from '../common/errors/invalid-event.error';
import { capText, describeValue } from './describe-value';
import type { EntityKind } from './entity-kind';
import type {
  CustomerData,
  IncomingMessage,
  OrderData,
  OrderItemData,
  ProductData,
  SyncEvent,
} from './sync-event';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * A contract event nests four levels (envelope, data, items, an item); unknown fields may nest
 * deeper, but not without bound: nothing downstream has to cope with 100,000 nested arrays.
 */
export const MAX_NESTING_DEPTH = 64;
/** Long enough for five issues with their values; sync_errors.error_message is a TEXT column. */
export const MAX_ERROR_MESSAGE_LENGTH = 2000;
const MAX_ISSUES = 5;
const MAX_ITEMS = 1000;
const INT32_MAX = 2_147_483_647;
const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DECIMAL = /^\d{1,10}(\.\d{1,2})?$/;
const CURRENCY = /^[A-Z]{3}$/;
const EMAIL = /^[^@]+@[^@]+$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ACTIONS = ['created', 'updated', 'deleted'] as const;
type Action = (typeof ACTIONS)[number];
const typesOf = (kind: EntityKind) =>
  new Map<unknown, Action>(ACTIONS.map((action) => [`${kind}.${action}`, action]));
/** The `type`s each topic's kind carries, `product.created` and so on, to their action. */
const TYPE_ACTIONS: Record<EntityKind, ReadonlyMap<unknown, Action>> = {
  product: typesOf('product'),
  customer: typesOf('customer'),
  order: typesOf('order'),
};
const CUSTOMER_STATUSES: readonly CustomerData['status'][] = ['active', 'inactive', 'blocked'];
const ORDER_STATUSES: readonly OrderData['status'][] = [
  'pending',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
];

const RULE = {
  id: 'must be an integer ≥ 1',
  positiveInt32: `must be an integer from 1 to ${INT32_MAX}`,
  count: `must be an integer from 0 to ${INT32_MAX}`,
  string: 'must be a string',
  eventId: 'must be 1-128 characters of A-Z a-z 0-9 . _ : -',
  timestamp: 'must be an RFC 3339 timestamp with a zone, like 2026-11-20T10:15:30.123Z',
  object: 'must be an object',
  decimal: 'must be a decimal ≥ 0 and < 10^10 with at most 2 places',
  currency: 'must be 3 upper-case letters',
  boolean: 'must be true or false',
  email: 'must be at most 254 characters with one @ and text on both sides',
  items: `must be an array of at most ${MAX_ITEMS} items`,
  customerStatus: `must be one of ${CUSTOMER_STATUSES.join(', ')}`,
  orderStatus: `must be one of ${ORDER_STATUSES.join(', ')}`,
} as const;

const textRule = (min: number, max: number) =>
  min > 0
    ? `must be a string of ${min} to ${max} characters`
    : `must be a string of at most ${max} characters`;

type Json = Record<string, unknown>;

/**
 * What is wrong with one event, field by field, as "path: rule, got value": the first five
 * issues, each value shown bounded, "is required" for a field that is missing.
 */
class Issues {
  private readonly found: string[] = [];

  add(path: string, rule: string, input: unknown): void {
    if (this.found.length >= MAX_ISSUES) return;
    this.found.push(
      input === undefined
        ? `${path}: is required`
        : `${path}: ${rule}, got ${describeValue(input)}`,
    );
  }

  get any(): boolean {
    return this.found.length > 0;
  }

  throwIfAny(eventId: string | null): void {
    if (this.found.length === 0) return;
    throw new InvalidEventError(
      'schema_violation',
      capText(this.found.join('; '), MAX_ERROR_MESSAGE_LENGTH),
      eventId,
    );
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Code points of well-formed text: UTF-16 units less the second halves of pairs. */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) count--;
  }
  return count;
}

/**
 * Length in code points from `min` to `max`, counting only when the UTF-16 length cannot
 * decide (a code point is one or two units). A lone surrogate cannot be stored in utf8mb4 as
 * sent, so it is not text.
 */
function isText(value: unknown, min: number, max: number): value is string {
  if (typeof value !== 'string') return false;
  const units = value.length;
  if (units > 2 * max || units < min) return false;
  if ((units > max || units < 2 * min) && !inRange(codePoints(value), min, max)) return false;
  return value.isWellFormed();
}

const inRange = (n: number, min: number, max: number) => n >= min && n <= max;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** The number that `count` ASCII digits of `s` from `at` spell, or -1 if any is not a digit. */
function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const digit = s.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/**
 * The instant of `YYYY-MM-DD[Tt ]hh:mm:ss[.1-9 digits](Z|z|±hh:mm)`, or undefined; checks the
 * calendar too (`Date` would roll 2026-02-30 over). Read character by character: the regular
 * expression with its eleven captured strings was a fifth of validation's time per event.
 */
function timestamp(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length < 20 || value.length > 35) return undefined;
  const separator = value[10];
  if (
    value[4] !== '-' ||
    value[7] !== '-' ||
    (separator !== 'T' && separator !== 't' && separator !== ' ') ||
    value[13] !== ':' ||
    value[16] !== ':'
  ) {
    return undefined;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  let at = 19;
  // Milliseconds truncated from the fraction, as Date's parser does.
  let ms = 0;
  if (value[at] === '.') {
    const fraction = ++at;
    while (digitsAt(value, at, 1) >= 0) at++;
    const places = at - fraction;
    if (places < 1 || places > 9) return undefined;
    ms = digitsAt(value, fraction, Math.min(places, 3)) * 10 ** Math.max(3 - places, 0);
  }
  const zone = value[at];
  let offsetMinutes = 0;
  if (zone === '+' || zone === '-') {
    const hours = digitsAt(value, at + 1, 2);
    const minutes = digitsAt(value, at + 4, 2);
    if (value.length !== at + 6 || value[at + 3] !== ':') return undefined;
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return undefined;
    offsetMinutes = (zone === '-' ? -1 : 1) * (hours * 60 + minutes);
  } else if ((zone !== 'Z' && zone !== 'z') || value.length !== at + 1) {
    return undefined;
  }
  const days = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (
    // Date.UTC reads years below 100 as 19xx; no offset brings them into 1000-9999.
    year < 100 ||
    day < 1 ||
    day > days ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  ) {
    return undefined;
  }
  const date = new Date(
    Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000,
  );
  const utcYear = date.getUTCFullYear();
  return utcYear >= 1000 && utcYear <= 9999 ? date : undefined;
}

/** A decimal string as stored: JSON numbers are written out as JavaScript prints them. */
function decimal(value: unknown): string | undefined {
  const text =
    typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
  return text !== undefined && DECIMAL.test(text) ? text : undefined;
}

function id(data: Json, key: string, path: string, issues: Issues): number {
  const value = data[key];
  if (!isInteger(value, 1, Number.MAX_SAFE_INTEGER)) issues.add(path, RULE.id, value);
  return value as number;
}

function text(data: Json, key: string, path: string, min: number, max: number, issues: Issues) {
  const value = data[key];
  if (!isText(value, min, max)) issues.add(path, textRule(min, max), value);
  return value as string;
}

function optionalText(data: Json, key: string, path: string, max: number, issues: Issues) {
  const value = data[key];
  if (value === undefined || value === null) return null;
  if (!isText(value, 0, max)) issues.add(path, textRule(0, max), value);
  return value as string;
}

function decimalField(value: unknown, path: string, issues: Issues): string {
  const result = decimal(value);
  if (result === undefined) issues.add(path, RULE.decimal, value);
  return result as string;
}

function currency(data: Json, issues: Issues): string {
  const value = data.currency;
  if (typeof value !== 'string' || !CURRENCY.test(value))
    issues.add('data.currency', RULE.currency, value);
  return value as string;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  path: string,
  rule: string,
  issues: Issues,
): T {
  if (!allowed.includes(value as T)) issues.add(path, rule, value);
  return value as T;
}

function productData(data: Json, issues: Issues): ProductData {
  const entityId = id(data, 'id', 'data.id', issues);
  const sku = text(data, 'sku', 'data.sku', 1, 64, issues);
  const name = text(data, 'name', 'data.name', 1, 255, issues);
  const description = optionalText(data, 'description', 'data.description', 65_535, issues);
  const price = decimalField(data.price, 'data.price', issues);
  const code = currency(data, issues);
  const stock = data.stock ?? 0;
  if (!isInteger(stock, 0, INT32_MAX)) issues.add('data.stock', RULE.count, stock);
  const active = data.active ?? true;
  if (typeof active !== 'boolean') issues.add('data.active', RULE.boolean, active);
  return {
    id: entityId,
    sku,
    name,
    description,
    price,
    currency: code,
    // JSON's -0 is a valid 0; adding +0 turns it into a plain 0.
    stock: (stock as number) + 0,
    active: active as boolean,
  };
}

function customerData(data: Json, issues: Issues): CustomerData {
  const email = data.email;
  if (typeof email !== 'string' || !isText(email, 0, 254) || !EMAIL.test(email))
    issues.add('data.email', RULE.email, email);
  return {
    id: id(data, 'id', 'data.id', issues),
    email: email as string,
    firstName: optionalText(data, 'firstName', 'data.firstName', 100, issues),
    lastName: optionalText(data, 'lastName', 'data.lastName', 100, issues),
    phone: optionalText(data, 'phone', 'data.phone', 32, issues),
    status: oneOf(
      data.status ?? 'active',
      CUSTOMER_STATUSES,
      'data.status',
      RULE.customerStatus,
      issues,
    ),
  };
}

function orderItems(value: unknown, issues: Issues): OrderItemData[] {
  if (!Array.isArray(value) || value.length > MAX_ITEMS) {
    issues.add('data.items', RULE.items, value);
    return [];
  }
  const items: OrderItemData[] = new Array<OrderItemData>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!isObject(item)) {
      issues.add(`data.items.${i}`, RULE.object, item);
      continue;
    }
    const { productId, quantity } = item;
    if (!isInteger(productId, 1, Number.MAX_SAFE_INTEGER))
      issues.add(`data.items.${i}.productId`, RULE.id, productId);
    if (!isInteger(quantity, 1, INT32_MAX))
      issues.add(`data.items.${i}.quantity`, RULE.positiveInt32, quantity);
    const unitPrice = decimal(item.unitPrice);
    if (unitPrice === undefined)
      issues.add(`data.items.${i}.unitPrice`, RULE.decimal, item.unitPrice);
    items[i] = {
      productId: productId as number,
      quantity: quantity as number,
      unitPrice: unitPrice as string,
    };
  }
  return items;
}

function orderData(data: Json, issues: Issues): OrderData {
  const entityId = id(data, 'id', 'data.id', issues);
  const customerId = id(data, 'customerId', 'data.customerId', issues);
  const status = oneOf(data.status, ORDER_STATUSES, 'data.status', RULE.orderStatus, issues);
  const code = currency(data, issues);
  const totalAmount = decimalField(data.totalAmount, 'data.totalAmount', issues);
  const placedAt = timestamp(data.placedAt);
  if (placedAt === undefined) issues.add('data.placedAt', RULE.timestamp, data.placedAt);
  return {
    id: entityId,
    customerId,
    status,
    currency: code,
    totalAmount,
    placedAt: placedAt as Date,
    items: orderItems(data.items, issues),
  };
}

const DATA_VALIDATORS: { [K in EntityKind]: (data: Json, issues: Issues) => unknown } = {
  product: productData,
  customer: customerData,
  order: orderData,
};

/**
 * One iterative walk over the parsed value: every object and array, never recursion (the
 * stack cannot overflow, whatever the input). JSON.parse keeps a `__proto__` key as an own
 * property, so it is found here whether written plainly or with \u escapes.
 */
function checkStructure(root: unknown, mayHaveUnsafeKey: boolean): void {
  const values: unknown[] = [root];
  const depths: number[] = [1];
  const wheres: string[] = ['value'];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    const where = wheres.pop() as string;
    if (depth > MAX_NESTING_DEPTH) {
      throw new InvalidEventError(
        'nesting_too_deep',
        `${where}: nests deeper than ${MAX_NESTING_DEPTH} levels of arrays and objects`,
      );
    }
    // Where a deep value sits is named down to a data field; deeper paths would cost every event.
    const named = depth <= 2;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'object' || item === null) continue;
        values.push(item);
        depths.push(depth + 1);
        wheres.push(where);
      }
      continue;
    }
    const object = value as Json;
    for (const key in object) {
      if (mayHaveUnsafeKey && key === '__proto__') {
        throw new InvalidEventError('unsafe_key', 'key "__proto__" is not allowed');
      }
      const child = object[key];
      if (typeof child !== 'object' || child === null) continue;
      values.push(child);
      depths.push(depth + 1);
      wheres.push(named ? (depth === 1 ? key : `${where}.${key}`) : where);
    }
  }
}

/**
 * Decodes untrusted bytes: size first, strict UTF-8 without a byte order mark, then JSON that
 * nests at most MAX_NESTING_DEPTH levels and has no key that could reach a prototype.
 */
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
  if (!isUtf8(value)) {
    throw new InvalidEventError('invalid_encoding', 'message is not valid UTF-8');
  }
  if (value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf) {
    throw new InvalidEventError(
      'invalid_encoding',
      'message starts with a UTF-8 byte order mark, which JSON text must not carry',
    );
  }
  const textValue = value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(textValue);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new InvalidEventError(
      'invalid_json',
      `message is not valid JSON: ${capText(err.message, 200)}`,
    );
  }
  if (typeof json === 'object' && json !== null) {
    // `__proto__` written plainly or with a \u escape; two searches cost a third of one regex.
    checkStructure(json, textValue.includes('__proto__') || textValue.includes('\\u'));
  }
  return json;
}

/**
 * Validates one message against contract section 2 for the entity its topic carries, in one
 * pass over the parsed value. Only known fields are copied out; anything else in the payload
 * (`constructor`, `prototype` included) is ignored and never stored. Throws InvalidEventError
 * with a message an operator can act on.
 */
export function parseEvent(kind: EntityKind, message: IncomingMessage): SyncEvent {
  const json = decodeJson(message.value);
  if (!isObject(json)) {
    throw new InvalidEventError(
      'schema_violation',
      `value: must be a JSON object, got ${describeValue(json)}`,
    );
  }
  const { eventId, type, version, data } = json;
  const hintId = typeof eventId === 'string' && EVENT_ID.test(eventId) ? eventId : null;
  const issues = new Issues();
  if (hintId === null) {
    issues.add('eventId', typeof eventId === 'string' ? RULE.eventId : RULE.string, eventId);
  }
  if (typeof type !== 'string') issues.add('type', RULE.string, type);
  const occurredAt = timestamp(json.occurredAt);
  if (occurredAt === undefined) issues.add('occurredAt', RULE.timestamp, json.occurredAt);
  if (!isInteger(version, 1, Number.MAX_SAFE_INTEGER)) issues.add('version', RULE.id, version);
  if (!isObject(data)) issues.add('data', RULE.object, data);
  issues.throwIfAny(hintId);
  const fields = data as Json;

  const action = TYPE_ACTIONS[kind].get(type);
  if (action === undefined) {
    throw new InvalidEventError(
      'type_mismatch',
      `type: ${describeValue(type)} does not belong on ${message.topic}, which carries ${[...TYPE_ACTIONS[kind].keys()].join(', ')}`,
      hintId,
    );
  }
  const origin = { topic: message.topic, partition: message.partition, offset: message.offset };
  // Literals, not spreads of a shared header: copying an object by spread costs more than the
  // rest of the validation together.
  if (action === 'deleted') {
    const entityId = id(fields, 'id', 'data.id', issues);
    issues.throwIfAny(hintId);
    return {
      kind,
      action: 'delete',
      eventId: hintId as string,
      type: type as string,
      entityId,
      version: version as number,
      occurredAt: occurredAt as Date,
      origin,
    };
  }
  const validated = DATA_VALIDATORS[kind](fields, issues) as { id: number };
  issues.throwIfAny(hintId);
  return {
    kind,
    action: 'upsert',
    eventId: hintId as string,
    type: type as string,
    entityId: validated.id,
    version: version as number,
    occurredAt: occurredAt as Date,
    origin,
    data: validated,
  } as SyncEvent;
}

/**
 * parseEvent that never throws: whatever goes wrong while decoding or validating (an
 * InvalidEventError, or a bug or resource limit of our own) makes the message invalid. The same
 * bytes would fail the same way again, so this is never retried.
 */
export function validateEvent(
  kind: EntityKind,
  message: IncomingMessage,
): SyncEvent | InvalidEventError {
  try {
    return parseEvent(kind, message);
  } catch (err) {
    if (err instanceof InvalidEventError) return err;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new InvalidEventError(
      'validation_crashed',
      `validating the message failed: ${capText(reason, 200)}`,
    );
  }
}
