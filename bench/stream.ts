/**
 * The benchmark's input: a deterministic stream of contract-shaped change events with the mix
 * issue 5 asks for (30% duplicates, 10% stale versions, orders with 1–5 items), and the
 * reference end state computed from the events alone.
 */

import { seededRandom } from '../test/support/seeded-random';

export const KINDS = ['product', 'customer', 'order'] as const;
export type Kind = (typeof KINDS)[number];
type Action = 'created' | 'updated' | 'deleted';

/** One change at the source. A duplicate message carries the very same event again. */
export interface BenchEvent {
  readonly seq: number;
  readonly kind: Kind;
  readonly id: number;
  readonly version: number;
  readonly action: Action;
  readonly occurredAt: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface StreamCounts {
  fresh: number;
  stale: number;
  duplicate: number;
}

const SHARE_DUPLICATE = 0.3;
const SHARE_STALE = 0.1;
const SHARE_DELETE = 0.05;
const KIND_WEIGHTS: readonly [Kind, number][] = [
  ['product', 0.4],
  ['customer', 0.25],
  ['order', 0.35],
];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
const ORDER_STATUSES = [
  'pending',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;
const CUSTOMER_STATUSES = ['active', 'inactive', 'blocked'] as const;
const FIRST_NAMES = ['Ana', 'Björn', 'Chloé', 'Dmitri', 'Eve', 'Fatima', 'Gustav', 'Hana'] as const;
const BASE_TIME = Date.UTC(2026, 10, 20, 8, 0, 0, 0);

const entityKey = (kind: Kind, id: number) => `${kind}:${id}`;

/**
 * Generates events in production order. Versions of an entity's real changes are even and
 * strictly increasing; a stale event reuses an odd version below the newest one (a late copy of
 * an older change, as the contract allows), and is placed after that newest one so it arrives
 * stale on the entity's partition. Deleted entities can come back with a higher version.
 */
export class EventStream {
  private readonly random: () => number;
  private readonly events: BenchEvent[] = [];
  /** The newest real change per entity: the reference end state. */
  private readonly newest = new Map<string, BenchEvent>();
  private readonly touched: string[] = [];
  private readonly entitiesPerKind: Record<Kind, number>;
  readonly counts: StreamCounts = { fresh: 0, stale: 0, duplicate: 0 };

  constructor(expectedEvents: number, seed = 20261120) {
    this.random = seededRandom(seed);
    // About six real changes per entity over the whole stream.
    const entities = Math.max(30, Math.round((expectedEvents * (1 - SHARE_DUPLICATE)) / 6));
    this.entitiesPerKind = {
      product: Math.ceil(entities * 0.4),
      customer: Math.ceil(entities * 0.25),
      order: Math.ceil(entities * 0.35),
    };
  }

  /** The next `count` messages; a duplicate is the same event object as its original. */
  next(count: number): BenchEvent[] {
    const out: BenchEvent[] = [];
    for (let i = 0; i < count; i++) {
      const r = this.random();
      let event: BenchEvent | undefined;
      if (r < SHARE_DUPLICATE && this.events.length > 0) {
        event = this.events[Math.floor(this.random() * this.events.length)];
        if (event) this.counts.duplicate++;
      } else if (r < SHARE_DUPLICATE + SHARE_STALE) {
        event = this.stale();
      }
      event ??= this.fresh();
      out.push(event);
    }
    return out;
  }

  /** The newest real change of every entity touched so far: what the tables must show. */
  reference(): ReadonlyMap<string, BenchEvent> {
    return this.newest;
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)] as T;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private pickKind(): Kind {
    let r = this.random();
    for (const [kind, weight] of KIND_WEIGHTS) {
      if (r < weight) return kind;
      r -= weight;
    }
    return 'order';
  }

  private fresh(): BenchEvent {
    const kind = this.pickKind();
    const id = this.int(1, this.entitiesPerKind[kind]);
    const key = entityKey(kind, id);
    const previous = this.newest.get(key);
    if (!previous) this.touched.push(key);
    const action: Action =
      previous === undefined || previous.action === 'deleted'
        ? 'created'
        : this.random() < SHARE_DELETE
          ? 'deleted'
          : 'updated';
    const event = this.make(kind, id, (previous?.version ?? 0) + 2, action);
    this.newest.set(key, event);
    this.counts.fresh++;
    return event;
  }

  private stale(): BenchEvent | undefined {
    if (this.touched.length === 0) return undefined;
    const newest = this.newest.get(this.pick(this.touched));
    if (!newest || newest.version < 4) return undefined;
    const version = 2 * this.int(0, newest.version / 2 - 1) + 1;
    const action: Action = this.random() < 0.2 ? 'deleted' : 'updated';
    this.counts.stale++;
    return this.make(newest.kind, newest.id, version, action);
  }

  private make(kind: Kind, id: number, version: number, action: Action): BenchEvent {
    const event: BenchEvent = {
      seq: this.events.length,
      kind,
      id,
      version,
      action,
      occurredAt: new Date(BASE_TIME + version * 60_000 + (id % 1000)).toISOString(),
      data: action === 'deleted' ? { id } : { id, ...this.data(kind, id, version) },
    };
    this.events.push(event);
    return event;
  }

  private price(maxUnits: number): string {
    return `${this.int(0, maxUnits)}.${String(this.int(0, 99)).padStart(2, '0')}`;
  }

  private data(kind: Kind, id: number, version: number): Record<string, unknown> {
    switch (kind) {
      case 'product':
        return {
          sku: `SKU-${id}`,
          name: this.random() < 0.1 ? `Café ☕ ${id} v${version}` : `Product ${id} v${version}`,
          description:
            this.random() < 0.2
              ? null
              : `Soft cotton, regular fit, revision ${version}. `.repeat(this.int(1, 4)),
          price: this.price(500),
          currency: this.pick(CURRENCIES),
          stock: this.int(0, 10_000),
          active: this.random() < 0.9,
        };
      case 'customer':
        return {
          email: `customer${id}.v${version}@example.com`,
          firstName: this.random() < 0.1 ? null : this.pick(FIRST_NAMES),
          lastName: this.random() < 0.1 ? null : `Lastname${id}`,
          phone: this.random() < 0.5 ? null : `+49 30 ${this.int(1_000_000, 9_999_999)}`,
          status: this.pick(CUSTOMER_STATUSES),
        };
      case 'order': {
        const items = Array.from({ length: this.int(1, 5) }, () => ({
          productId: this.int(1, this.entitiesPerKind.product),
          quantity: this.int(1, 5),
          unitPrice: this.price(200),
        }));
        const cents = items.reduce(
          (sum, item) => sum + item.quantity * Math.round(Number(item.unitPrice) * 100),
          0,
        );
        // Upstream sends local times with a zone (here UTC+1); the service stores UTC.
        const placedAtLocal = new Date(BASE_TIME + id * 1000 + 3_600_000).toISOString();
        return {
          customerId: this.int(1, this.entitiesPerKind.customer),
          status: this.pick(ORDER_STATUSES),
          currency: this.pick(CURRENCIES),
          totalAmount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
          placedAt: `${placedAtLocal.slice(0, 23)}+01:00`,
          items,
        };
      }
    }
  }
}

/** A per-mode event id: UUID-shaped, unique per mode so one mode's Redis keys never serve another. */
export function eventId(modeSalt: string, seq: number): string {
  const hex = seq.toString(16).padStart(12, '0');
  return `${modeSalt}-0000-4000-8000-${hex}`;
}

/** The message value exactly as the contract's envelope. */
export function envelope(event: BenchEvent, modeSalt: string): string {
  return JSON.stringify({
    eventId: eventId(modeSalt, event.seq),
    type: `${event.kind}.${event.action}`,
    occurredAt: event.occurredAt,
    version: event.version,
    data: event.data,
  });
}
