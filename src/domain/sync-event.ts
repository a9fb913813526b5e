import type { EntityKind } from './entity-kind';

export interface ProductData {
  readonly id: number;
  readonly sku: string;
  readonly name: string;
  readonly description: string | null;
  readonly price: string;
  readonly currency: string;
  readonly stock: number;
  readonly active: boolean;
}

export interface CustomerData {
  readonly id: number;
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly phone: string | null;
  readonly status: 'active' | 'inactive' | 'blocked';
}

export interface OrderItemData {
  readonly productId: number;
  readonly quantity: number;
  readonly unitPrice: string;
}

export interface OrderData {
  readonly id: number;
  readonly customerId: number;
  readonly status: 'pending' | 'paid' | 'shipped' | 'delivered' | 'cancelled' | 'refunded';
  readonly currency: string;
  readonly totalAmount: string;
  readonly placedAt: Date;
  readonly items: readonly OrderItemData[];
}

export interface EntityDataMap {
  product: ProductData;
  customer: CustomerData;
  order: OrderData;
}

/** Where a message came from: enough to find it again, dead-letter it or record it. */
export interface MessageOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** One Kafka message as the sync core sees it, independent of the transport that delivered it. */
export interface IncomingMessage extends MessageOrigin {
  /** The key's bytes as produced: keys need not be text, and dead letters carry them unchanged. */
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** How a batch handler talks back to the consumer while it works through a fetched batch. */
export interface BatchControl {
  /** Keeps the consumer in its group during long work; throws when the group rebalances. */
  readonly heartbeat: () => Promise<void>;
  /** Marks every message up to and including `offset` as done, so it may be committed. */
  readonly resolveOffset: (offset: string) => void;
  /** False once the consumer stops or loses the partition: leave the rest for its next owner. */
  readonly shouldContinue: () => boolean;
}

interface EventHeader<K extends EntityKind> {
  readonly kind: K;
  readonly eventId: string;
  readonly type: string;
  readonly entityId: number;
  readonly version: number;
  readonly occurredAt: Date;
  readonly origin: MessageOrigin;
}

type EventOf<K extends EntityKind> =
  | (EventHeader<K> & { readonly action: 'upsert'; readonly data: EntityDataMap[K] })
  | (EventHeader<K> & { readonly action: 'delete' });

/** A validated change event: the only shape the apply step accepts. */
export type SyncEvent = { [K in EntityKind]: EventOf<K> }[EntityKind];

export type UpsertEvent<K extends EntityKind = EntityKind> = Extract<
  SyncEvent,
  { kind: K; action: 'upsert' }
>;
