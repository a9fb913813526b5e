import type { EntityKind } from '../domain/entity-kind';

/**
 * The `@EventPattern` of each consumer controller, whose handler takes one fetched partition
 * batch: the entity's default topic name. Decorators are evaluated before configuration is read,
 * so the server maps these to the configured topics (KAFKA_TOPIC_*) when it subscribes.
 */
export const TOPIC_PATTERNS = {
  product: 'product.changed',
  customer: 'customer.changed',
  order: 'order.changed',
} as const satisfies Record<EntityKind, string>;
