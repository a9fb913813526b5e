import { randomUUID } from 'node:crypto';

/** Builders for contract-shaped events; every field can be overridden to make a bad one. */
export interface TestEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  version: number;
  data: Record<string, unknown>;
}

const occurredAt = (version: number) =>
  new Date(Date.UTC(2026, 10, 20, 10, 0, 0, version)).toISOString();

export function productEvent(
  id: number,
  version: number,
  data: Record<string, unknown> = {},
  action = 'updated',
): TestEvent {
  return {
    eventId: randomUUID(),
    type: `product.${action}`,
    occurredAt: occurredAt(version),
    version,
    data: {
      id,
      sku: `SKU-${id}`,
      name: `Product ${id} v${version}`,
      description: `description v${version}`,
      price: `${id}.${String(version % 100).padStart(2, '0')}`,
      currency: 'EUR',
      stock: version,
      active: true,
      ...data,
    },
  };
}

export function customerEvent(
  id: number,
  version: number,
  data: Record<string, unknown> = {},
  action = 'updated',
): TestEvent {
  return {
    eventId: randomUUID(),
    type: `customer.${action}`,
    occurredAt: occurredAt(version),
    version,
    data: {
      id,
      email: `c${id}.v${version}@example.com`,
      firstName: `First${version}`,
      lastName: 'Last',
      phone: null,
      status: 'active',
      ...data,
    },
  };
}

export function orderEvent(
  id: number,
  version: number,
  data: Record<string, unknown> = {},
  action = 'updated',
): TestEvent {
  return {
    eventId: randomUUID(),
    type: `order.${action}`,
    occurredAt: occurredAt(version),
    version,
    data: {
      id,
      customerId: 7,
      status: 'paid',
      currency: 'EUR',
      totalAmount: '30.00',
      placedAt: '2026-11-20T09:00:00.000+01:00',
      items: [
        { productId: 1, quantity: 1, unitPrice: '10.00' },
        { productId: 2, quantity: 2, unitPrice: '10.00' },
      ],
      ...data,
    },
  };
}

export function deletedEvent(
  entity: 'product' | 'customer' | 'order',
  id: number,
  version: number,
): TestEvent {
  return {
    eventId: randomUUID(),
    type: `${entity}.deleted`,
    occurredAt: occurredAt(version),
    version,
    data: { id },
  };
}
