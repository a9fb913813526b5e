import type { EntityKind } from '../domain/entity-kind';

/**
 * The `@EventPattern` of each consumer controller: the entity's default topic name. Decorators are
 * evaluated before configuration is read, so the server maps these to the configured topics
 * (KAFKA_TOPIC_*) when it subscribes and back when a message arrives.
 */
export const TOPIC_PATTERNS = {
  product: 'product.changed',
  customer: 'customer.changed',
  order: 'order.changed',
} as const satisfies Record<EntityKind, string>;

/** The patterns of the batch handlers (SYNC_MODE=batch): one call per fetched partition batch. */
export const BATCH_PATTERNS = {
  product: 'product.changed#batch',
  customer: 'customer.changed#batch',
  order: 'order.changed#batch',
} as const satisfies Record<EntityKind, string>;
