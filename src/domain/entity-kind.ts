export const ENTITY_KINDS = ['product', 'customer', 'order'] as const;

export type EntityKind = (typeof ENTITY_KINDS)[number];
