import type { EntityKind } from './entity-kind';
import type { SyncEvent } from './sync-event';
import {
  entityKey,
  isNewer,
  lastVersion,
  newestPerEntity,
  planApply,
  type EntityKey,
  type VersionState,
} from './version-rule';
import { seededRandom } from '../../test/support/seeded-random';

const origin = { topic: 'test.changed', partition: 0, offset: '0' };

function upsert(kind: EntityKind, id: number, version: number, eventId?: string): SyncEvent {
  const header = {
    eventId: eventId ?? `${kind}-${id}-v${version}`,
    version,
    entityId: id,
    occurredAt: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, version % 1000)),
    origin,
  };
  switch (kind) {
    case 'product':
      return {
        ...header,
        kind,
        type: 'product.updated',
        action: 'upsert',
        data: {
          id,
          sku: `SKU-${id}`,
          name: `Product ${id} v${version}`,
          description: null,
          price: '1.00',
          currency: 'EUR',
          stock: version,
          active: true,
        },
      };
    case 'customer':
      return {
        ...header,
        kind,
        type: 'customer.updated',
        action: 'upsert',
        data: {
          id,
          email: `c${id}.v${version}@example.com`,
          firstName: null,
          lastName: null,
          phone: null,
          status: 'active',
        },
      };
    case 'order':
      return {
        ...header,
        kind,
        type: 'order.updated',
        action: 'upsert',
        data: {
          id,
          customerId: 1,
          status: 'paid',
          currency: 'EUR',
          totalAmount: `${version}.00`,
          placedAt: new Date(Date.UTC(2026, 10, 20)),
          items: [{ productId: 1, quantity: version, unitPrice: '1.00' }],
        },
      };
  }
}

function deleted(kind: EntityKind, id: number, version: number, eventId?: string): SyncEvent {
  return {
    eventId: eventId ?? `${kind}-${id}-v${version}-deleted`,
    type: `${kind}.deleted`,
    kind,
    action: 'delete',
    entityId: id,
    version,
    occurredAt: new Date(Date.UTC(2026, 10, 20)),
    origin,
  };
}

const ids = (events: readonly SyncEvent[]) => events.map((event) => event.eventId);

describe('entityKey', () => {
  it('joins kind and id', () => {
    expect(entityKey('order', 42)).toBe('order:42');
  });
});

describe('isNewer', () => {
  it('is true when nothing was applied yet', () => {
    expect(isNewer(undefined, 1)).toBe(true);
  });

  it('is false for a lower version', () => {
    expect(isNewer({ version: 5, deleted: false }, 4)).toBe(false);
  });

  it('is false for an equal version', () => {
    expect(isNewer({ version: 5, deleted: false }, 5)).toBe(false);
  });

  it('is true for a higher version', () => {
    expect(isNewer({ version: 5, deleted: false }, 6)).toBe(true);
  });

  it('treats a deleted tombstone at v5 like an applied v5: ≤ 5 is not newer, 6 is', () => {
    const tombstone: VersionState = { version: 5, deleted: true };
    expect(isNewer(tombstone, 4)).toBe(false);
    expect(isNewer(tombstone, 5)).toBe(false);
    expect(isNewer(tombstone, 6)).toBe(true);
  });

  it('compares versions at the top of the safe integer range exactly', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(isNewer({ version: max - 1, deleted: false }, max)).toBe(true);
    expect(isNewer({ version: max, deleted: false }, max)).toBe(false);
  });
});

describe('newestPerEntity', () => {
  it('keeps the highest version of each of several entities, keyed by kind and id', () => {
    const events = [
      upsert('product', 1, 3),
      upsert('product', 2, 1),
      upsert('product', 1, 9),
      upsert('customer', 1, 2),
      deleted('product', 2, 4),
      upsert('product', 1, 5),
    ];
    const newest = newestPerEntity(events);
    expect([...newest.keys()].sort()).toEqual(['customer:1', 'product:1', 'product:2']);
    expect(newest.get('product:1')?.eventId).toBe('product-1-v9');
    expect(newest.get('product:2')?.eventId).toBe('product-2-v4-deleted');
    expect(newest.get('customer:1')?.eventId).toBe('customer-1-v2');
  });

  it('keeps the first one seen on equal versions', () => {
    const first = upsert('order', 7, 4, 'first');
    const second = upsert('order', 7, 4, 'second');
    expect(newestPerEntity([first, second]).get('order:7')).toBe(first);
    expect(newestPerEntity([second, first]).get('order:7')).toBe(second);
  });

  it('returns an empty map for no events', () => {
    expect(newestPerEntity([]).size).toBe(0);
  });
});

describe('planApply', () => {
  it('lets a batch winner through only when it beats the current version', () => {
    const current = new Map<EntityKey, VersionState>([
      ['product:1', { version: 5, deleted: false }],
      ['product:2', { version: 5, deleted: false }],
    ]);
    const events = [
      upsert('product', 1, 3),
      upsert('product', 1, 5),
      upsert('product', 2, 6),
      upsert('product', 3, 1),
    ];
    const plan = planApply(events, current);
    expect(ids(plan.winners).sort()).toEqual(['product-2-v6', 'product-3-v1']);
    expect(plan.outcomes).toEqual(
      new Map([
        ['product-1-v3', 'stale'],
        ['product-1-v5', 'stale'],
        ['product-2-v6', 'applied'],
        ['product-3-v1', 'applied'],
      ]),
    );
  });

  it('gives every input event an outcome: the winner "applied", the others "stale"', () => {
    const events = [upsert('customer', 1, 1), upsert('customer', 1, 3), upsert('customer', 1, 2)];
    const plan = planApply(events, new Map());
    expect(ids(plan.winners)).toEqual(['customer-1-v3']);
    expect(plan.outcomes.size).toBe(3);
    expect(plan.outcomes.get('customer-1-v1')).toBe('stale');
    expect(plan.outcomes.get('customer-1-v2')).toBe('stale');
    expect(plan.outcomes.get('customer-1-v3')).toBe('applied');
  });

  it('records one outcome and one winner for an event delivered twice in one batch', () => {
    const event = upsert('order', 3, 2);
    const plan = planApply([event, event], new Map());
    expect(plan.winners).toEqual([event]);
    expect(plan.outcomes).toEqual(new Map([[event.eventId, 'applied']]));
  });

  it('blocks events at or below a deleted tombstone and lets a higher version through', () => {
    const current = new Map<EntityKey, VersionState>([['order:1', { version: 5, deleted: true }]]);
    const blocked = planApply([upsert('order', 1, 4), upsert('order', 1, 5)], current);
    expect(blocked.winners).toEqual([]);
    expect([...blocked.outcomes.values()]).toEqual(['stale', 'stale']);

    const revived = planApply([upsert('order', 1, 5), upsert('order', 1, 6)], current);
    expect(ids(revived.winners)).toEqual(['order-1-v6']);
    expect(revived.outcomes.get('order-1-v5')).toBe('stale');
  });

  it('lets a delete in the batch win over lower upserts, and a higher upsert win over the delete', () => {
    const deleteWins = planApply([upsert('product', 1, 1), deleted('product', 1, 2)], new Map());
    expect(deleteWins.winners).toHaveLength(1);
    expect(deleteWins.winners[0]?.action).toBe('delete');

    const upsertWins = planApply(
      [deleted('product', 1, 2), upsert('product', 1, 3), upsert('product', 1, 1)],
      new Map(),
    );
    expect(ids(upsertWins.winners)).toEqual(['product-1-v3']);
    expect(upsertWins.outcomes.get('product-1-v2-deleted')).toBe('stale');
  });

  it('keeps entities of different kinds with the same id apart', () => {
    const current = new Map<EntityKey, VersionState>([
      ['product:1', { version: 9, deleted: false }],
    ]);
    const plan = planApply([upsert('product', 1, 2), upsert('customer', 1, 2)], current);
    expect(ids(plan.winners)).toEqual(['customer-1-v2']);
  });

  it('returns nothing for an empty batch', () => {
    const plan = planApply([], new Map());
    expect(plan.winners).toEqual([]);
    expect(plan.outcomes.size).toBe(0);
  });
});

describe('planApply: the end state depends only on the set of events', () => {
  const randomInt = (random: () => number, below: number) => Math.floor(random() * below);

  function shuffled<T>(items: readonly T[], random: () => number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = randomInt(random, i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  interface Stored extends VersionState {
    readonly eventId: string;
    readonly data: unknown;
  }
  type Store = Map<EntityKey, Stored>;

  /** What the repository does with a plan: write each winner's row or tombstone. */
  function apply(store: Store, events: readonly SyncEvent[]): void {
    const { winners } = planApply(events, store);
    for (const event of winners) {
      store.set(entityKey(event.kind, event.entityId), {
        version: event.version,
        deleted: event.action === 'delete',
        eventId: event.eventId,
        data: event.action === 'delete' ? null : event.data,
      });
    }
  }

  const ENTITIES: readonly [EntityKind, number][] = [
    ['product', 1],
    ['product', 2],
    ['product', 3],
    ['product', 4],
    ['customer', 1],
    ['customer', 2],
    ['customer', 3],
    ['order', 1],
    ['order', 2],
    ['order', 3],
  ];

  /** 200 deliveries: distinct versions per entity (the source's promise), some delivered twice. */
  function randomDeliveries(random: () => number): SyncEvent[] {
    const distinct: SyncEvent[] = [];
    for (const [kind, id] of ENTITIES) {
      const versions = new Set<number>();
      const count = 8 + randomInt(random, 8);
      while (versions.size < count) versions.add(1 + randomInt(random, 1000));
      for (const version of versions) {
        distinct.push(random() < 0.2 ? deleted(kind, id, version) : upsert(kind, id, version));
      }
    }
    const deliveries = [...distinct];
    while (deliveries.length < 200) {
      const again = distinct[randomInt(random, distinct.length)];
      if (again !== undefined) deliveries.push(again);
    }
    return shuffled(deliveries, random);
  }

  /** Independent oracle: each entity ends at its highest-version event. */
  function expectedStore(events: readonly SyncEvent[]): Store {
    const store: Store = new Map();
    for (const event of events) {
      const key = entityKey(event.kind, event.entityId);
      const seen = store.get(key);
      if (seen === undefined || event.version > seen.version) {
        store.set(key, {
          version: event.version,
          deleted: event.action === 'delete',
          eventId: event.eventId,
          data: event.action === 'delete' ? null : event.data,
        });
      }
    }
    return store;
  }

  const sortedEntries = (store: Store) =>
    [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  it.each([1, 2, 3, 42, 2026])('seed %i: one at a time in any order equals one batch', (seed) => {
    const random = seededRandom(seed);
    const events = randomDeliveries(random);
    expect(events).toHaveLength(200);

    const batch: Store = new Map();
    apply(batch, events);
    expect(sortedEntries(batch)).toEqual(sortedEntries(expectedStore(events)));
    expect(batch.size).toBe(ENTITIES.length);

    for (let round = 0; round < 5; round++) {
      const oneByOne: Store = new Map();
      for (const event of shuffled(events, random)) apply(oneByOne, [event]);
      expect(sortedEntries(oneByOne)).toEqual(sortedEntries(batch));

      const chunked: Store = new Map();
      const order = shuffled(events, random);
      for (let start = 0; start < order.length;) {
        const size = 1 + randomInt(random, 30);
        apply(chunked, order.slice(start, start + size));
        start += size;
      }
      expect(sortedEntries(chunked)).toEqual(sortedEntries(batch));
    }
  });

  it('marks exactly one "applied" event per entity in a single batch on an empty store', () => {
    const events = randomDeliveries(seededRandom(7));
    const plan = planApply(events, new Map());
    expect(plan.outcomes.size).toBe(new Set(ids(events)).size);
    const applied = [...plan.outcomes.values()].filter((outcome) => outcome === 'applied');
    expect(applied).toHaveLength(ENTITIES.length);
    expect(new Set(plan.winners.map((event) => entityKey(event.kind, event.entityId))).size).toBe(
      ENTITIES.length,
    );
  });
});

describe('lastVersion', () => {
  it('is undefined for an entity with neither a row nor a tombstone', () => {
    expect(lastVersion(undefined, undefined)).toBeUndefined();
  });

  it("is the row's version for an entity never deleted", () => {
    expect(lastVersion(undefined, 7)).toEqual({ version: 7, deleted: false });
  });

  it('is the tombstone for a deleted entity, so an older event stays stale', () => {
    const state = lastVersion(10, undefined);
    expect(state).toEqual({ version: 10, deleted: true });
    expect(isNewer(state, 9)).toBe(false);
    expect(isNewer(state, 11)).toBe(true);
  });

  it('is the row once a newer version brought a deleted entity back, whatever the tombstone', () => {
    expect(lastVersion(10, 12)).toEqual({ version: 12, deleted: false });
    expect(isNewer(lastVersion(10, 12), 11)).toBe(false);
  });
});
