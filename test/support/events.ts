import { randomUUID } from 'node:crypto';
import type { EntityKind } from '../../src/domain/entity-kind';
import { parseEvent } from '../../src/domain/event-validation';
import type { SyncEvent } from '../../src/domain/sync-event';

/** Builders for contract-shaped events; every field can be overridden to make a bad one. */
export interface TestEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  version: number;
  data: Record<string, unknown>;
}

type Data = Record<string, unknown>;

/** Each entity's valid data for an id and version: the fields change with the version. */
const DEFAULTS: Record<EntityKind, (id: number, version: number) => Data> = {
  product: (id, version) => ({
    sku: `SKU-${id}`,
    name: `Product ${id} v${version}`,
    description: `description v${version}`,
    price: `${id}.${String(version % 100).padStart(2, '0')}`,
    currency: 'EUR',
    stock: version,
    active: true,
  }),
  customer: (id, version) => ({
    email: `c${id}.v${version}@example.com`,
    firstName: `First${version}`,
    lastName: 'Last',
    phone: null,
    status: 'active',
  }),
  order: () => ({
    customerId: 7,
    status: 'paid',
    currency: 'EUR',
    totalAmount: '30.00',
    placedAt: '2026-11-20T09:00:00.000+01:00',
    items: [
      { productId: 1, quantity: 1, unitPrice: '10.00' },
      { productId: 2, quantity: 2, unitPrice: '10.00' },
    ],
  }),
};

function event(
  entity: EntityKind,
  action: string,
  id: number,
  version: number,
  data: Data,
): TestEvent {
  return {
    eventId: randomUUID(),
    type: `${entity}.${action}`,
    occurredAt: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, version)).toISOString(),
    version,
    data: { id, ...data },
  };
}

const builder =
  (entity: EntityKind) =>
  (id: number, version: number, data: Data = {}, action = 'updated'): TestEvent =>
    event(entity, action, id, version, { ...DEFAULTS[entity](id, version), ...data });

export const productEvent = builder('product');
export const customerEvent = builder('customer');
export const orderEvent = builder('order');

export const deletedEvent = (entity: EntityKind, id: number, version: number): TestEvent =>
  event(entity, 'deleted', id, version, {});

/** The event as the service parses it from a message on `test.<kind>`, partition 0. */
export const parsedEvent = (kind: EntityKind, event: TestEvent, offset = '0'): SyncEvent =>
  parseEvent(kind, {
    topic: `test.${kind}`,
    partition: 0,
    offset,
    key: null,
    value: Buffer.from(JSON.stringify(event)),
  });
