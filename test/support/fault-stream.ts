import type { EntityKind } from '../../src/domain/entity-kind';
import { seededRandom } from './seeded-random';

/**
 * The fault tests' event stream and the end state it must produce, computed from the events
 * alone. Deterministic for a seed, so a failing run can be reproduced.
 *
 * Of the messages: ~30% re-send an eventId already sent (duplicates), ~20% carry a version older
 * than one already sent for that entity (stale), 1% are invalid (not JSON, a broken field rule, a
 * type of another topic's entity). About half go to an explicit random partition, so one entity's
 * events cross partitions and only the version rule keeps them in order.
 */
export interface StreamMessage {
  readonly kind: EntityKind;
  readonly key: string;
  readonly value: string;
  /** Undefined: the producer's partitioner picks by key. */
  readonly partition: number | undefined;
}

/** A row as the test reads it back: every column but synced_at, each value as a string. */
export type Row = Record<string, string | null>;

export interface ExpectedState {
  readonly cms_products: Row[];
  readonly cms_customers: Row[];
  readonly cms_orders: Row[];
  readonly cms_order_items: Row[];
}

export interface FaultStream {
  readonly messages: readonly StreamMessage[];
  /** Every valid eventId, once. */
  readonly validEventIds: ReadonlySet<string>;
  readonly invalid: number;
  readonly duplicates: number;
  readonly staleSent: number;
  readonly expected: ExpectedState;
}

export const FAULT_PARTITIONS = 6;
const KINDS: readonly EntityKind[] = ['product', 'customer', 'order'];
const ENTITIES_PER_KIND = 40;
const VERSIONS_PER_ENTITY = 29;
const DUPLICATE_SHARE = 0.3;
const STALE_SHARE = 0.2;
const INVALID_SHARE = 0.01;

interface ValidEvent {
  readonly kind: EntityKind;
  readonly id: number;
  readonly version: number;
  readonly deleted: boolean;
  readonly eventId: string;
  readonly value: string;
  readonly data: Record<string, unknown>;
  readonly occurredAt: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
/** How MariaDB's DATETIME(3) reads back (UTC). */
const sqlTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');

function dataOf(kind: EntityKind, id: number, v: number): Record<string, unknown> {
  switch (kind) {
    case 'product':
      return {
        id,
        sku: `SKU-${id}`,
        name: `Product ${id} v${v} ✓`,
        description: v % 3 === 0 ? null : `description ${v} 🚚`,
        price: `${id}.${pad2(v % 100)}`,
        currency: 'EUR',
        stock: v,
        active: v % 4 !== 0,
      };
    case 'customer':
      return {
        id,
        email: `c${id}.v${v}@example.com`,
        firstName: `First${v}`,
        lastName: v % 2 === 0 ? null : 'Müller',
        phone: v % 5 === 0 ? `+49 30 ${v}` : null,
        status: (['active', 'inactive', 'blocked'] as const)[v % 3],
      };
    case 'order':
      return {
        id,
        customerId: (id % 10) + 1,
        status: (['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const)[
          v % 6
        ],
        currency: 'EUR',
        totalAmount: `${v}.50`,
        placedAt: new Date(Date.UTC(2026, 10, 1) + v * 60_000 + id * 1000).toISOString(),
        items: Array.from({ length: v % 4 }, (_, j) => ({
          productId: ((id + j) % ENTITIES_PER_KIND) + 1,
          quantity: j + 1,
          unitPrice: `${j + 1}.25`,
        })),
      };
  }
}

function validEvent(runId: string, kind: EntityKind, id: number, version: number): ValidEvent {
  // Some entities end deleted, and some are deleted half-way and then come back (an undelete).
  const deleted =
    (version === VERSIONS_PER_ENTITY && id % 7 === 0) ||
    (version === Math.floor(VERSIONS_PER_ENTITY / 2) && id % 5 === 0);
  const data = deleted ? { id } : dataOf(kind, id, version);
  const occurredAt = new Date(Date.UTC(2026, 10, 20, 10) + version * 1000 + id).toISOString();
  const eventId = `${runId}-${kind}-${id}-${version}`;
  const value = JSON.stringify({
    eventId,
    type: `${kind}.${deleted ? 'deleted' : version === 1 ? 'created' : 'updated'}`,
    occurredAt,
    version,
    data,
  });
  return { kind, id, version, deleted, eventId, value, data, occurredAt };
}

/** Invalid on purpose, three ways: not JSON, a field rule broken, the wrong entity's type. */
function invalidValue(runId: string, kind: EntityKind, n: number): string {
  const base = {
    eventId: `${runId}-invalid-${n}`,
    type: `${kind}.updated`,
    occurredAt: '2026-11-20T10:00:00.000Z',
    version: 1_000_000 + n,
    data: dataOf(kind, 1, 1),
  };
  switch (n % 3) {
    case 0:
      return `{"eventId": "${runId}-invalid-${n}", "type": `; // truncated: not JSON
    case 1: {
      const broken: Record<EntityKind, Record<string, unknown>> = {
        product: { price: '1.999' },
        customer: { email: 'no-at-sign' },
        order: { totalAmount: '-1.00' },
      };
      return JSON.stringify({ ...base, data: { ...base.data, ...broken[kind] } });
    }
    default: {
      const other = KINDS[(KINDS.indexOf(kind) + 1) % KINDS.length] ?? 'product';
      return JSON.stringify({ ...base, type: `${other}.updated` });
    }
  }
}

function expectedState(newest: readonly ValidEvent[]): ExpectedState {
  const state: ExpectedState = {
    cms_products: [],
    cms_customers: [],
    cms_orders: [],
    cms_order_items: [],
  };
  const s = (value: unknown): string | null =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : null;
  for (const e of newest) {
    if (e.deleted) continue;
    const d = e.data;
    const sync = { source_version: s(e.version), source_occurred_at: sqlTime(e.occurredAt) };
    if (e.kind === 'product') {
      state.cms_products.push({
        id: s(d.id),
        sku: s(d.sku),
        name: s(d.name),
        description: s(d.description),
        price: s(d.price),
        currency: s(d.currency),
        stock: s(d.stock),
        active: d.active === true ? '1' : '0',
        ...sync,
      });
    } else if (e.kind === 'customer') {
      state.cms_customers.push({
        id: s(d.id),
        email: s(d.email),
        first_name: s(d.firstName),
        last_name: s(d.lastName),
        phone: s(d.phone),
        status: s(d.status),
        ...sync,
      });
    } else {
      state.cms_orders.push({
        id: s(d.id),
        customer_id: s(d.customerId),
        status: s(d.status),
        currency: s(d.currency),
        total_amount: s(d.totalAmount),
        placed_at: sqlTime(String(d.placedAt)),
        ...sync,
      });
      const items = d.items as { productId: number; quantity: number; unitPrice: string }[];
      items.forEach((item, lineNo) =>
        state.cms_order_items.push({
          order_id: s(d.id),
          line_no: s(lineNo),
          product_id: s(item.productId),
          quantity: s(item.quantity),
          unit_price: s(item.unitPrice),
        }),
      );
    }
  }
  return state;
}

export function buildFaultStream(runId: string, seed: number): FaultStream {
  const rand = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(rand() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  const perEntity: ValidEvent[][] = [];
  for (const kind of KINDS)
    for (let id = 1; id <= ENTITIES_PER_KIND; id++)
      perEntity.push(
        Array.from({ length: VERSIONS_PER_ENTITY }, (_, i) => validEvent(runId, kind, id, i + 1)),
      );
  const distinct = perEntity.length * VERSIONS_PER_ENTITY;
  const total = Math.round(distinct / (1 - DUPLICATE_SHARE - INVALID_SHARE));
  const duplicates = Math.round(total * DUPLICATE_SHARE);
  const invalid = total - distinct - duplicates;
  const staleTarget = Math.round(total * STALE_SHARE);

  // Events held back until a newer version of their entity was sent: these arrive stale.
  const late = new Set<ValidEvent>();
  while (late.size < staleTarget) {
    const versions = pick(perEntity);
    late.add(pick(versions.slice(0, -1)));
  }

  const messages: StreamMessage[] = [];
  const sent: ValidEvent[] = [];
  const newestSent = new Map<string, number>();
  const entityKey = (e: ValidEvent) => `${e.kind}:${e.id}`;
  const send = (e: ValidEvent) => {
    const explicit = rand() < 0.5;
    messages.push({
      kind: e.kind,
      key: String(e.id),
      value: e.value,
      partition: explicit ? Math.floor(rand() * FAULT_PARTITIONS) : undefined,
    });
  };
  const cursors = perEntity.map(() => 0);
  let held: ValidEvent[] = [];
  let staleSent = 0;
  let duplicatesLeft = duplicates;
  let invalidLeft = invalid;
  for (;;) {
    const open = cursors.flatMap((c, i) => (c < VERSIONS_PER_ENTITY ? [i] : []));
    if (open.length === 0 && held.length === 0) break;
    if (open.length > 0) {
      const i = pick(open);
      const e = perEntity[i]?.[cursors[i] ?? 0];
      cursors[i] = (cursors[i] ?? 0) + 1;
      if (e === undefined) continue;
      if (late.has(e)) {
        held.push(e);
      } else {
        send(e);
        sent.push(e);
        newestSent.set(entityKey(e), Math.max(newestSent.get(entityKey(e)) ?? 0, e.version));
      }
    }
    const ready = held.filter(
      (e) => (newestSent.get(entityKey(e)) ?? 0) > e.version && (open.length === 0 || rand() < 0.2),
    );
    for (const e of ready) {
      send(e);
      sent.push(e);
      staleSent++;
    }
    held = held.filter((e) => !ready.includes(e));
    if (open.length === 0 && ready.length === 0 && held.length > 0) {
      throw new Error('a held-back event never became stale');
    }
    while (
      sent.length > 0 &&
      duplicatesLeft > 0 &&
      rand() < duplicatesLeft / Math.max(1, distinct - sent.length)
    ) {
      send(pick(sent));
      duplicatesLeft--;
    }
    if (invalidLeft > 0 && rand() < invalidLeft / Math.max(1, distinct - sent.length)) {
      const kind = pick(KINDS);
      messages.push({
        kind,
        key: String(1 + Math.floor(rand() * ENTITIES_PER_KIND)),
        value: invalidValue(runId, kind, invalidLeft),
        partition: rand() < 0.5 ? Math.floor(rand() * FAULT_PARTITIONS) : undefined,
      });
      invalidLeft--;
    }
  }
  for (; duplicatesLeft > 0; duplicatesLeft--) send(pick(sent));
  for (; invalidLeft > 0; invalidLeft--) {
    const kind = pick(KINDS);
    messages.push({
      kind,
      key: '1',
      value: invalidValue(runId, kind, invalidLeft),
      partition: undefined,
    });
  }

  const newest = perEntity.map((versions) => {
    const last = versions[versions.length - 1];
    if (last === undefined) throw new Error('an entity without events');
    return last;
  });
  return {
    messages,
    validEventIds: new Set(sent.map((e) => e.eventId)),
    invalid,
    duplicates,
    staleSent,
    expected: expectedState(newest),
  };
}
