/** Connections of the mysql2 pool behind TypeORM, by state. */
export interface DbPoolConnections {
  readonly inUse: number;
  readonly idle: number;
  /** Requests queued for a connection because the pool is at its limit. */
  readonly waiting: number;
}

const lengthOf = (pool: object, field: string): number | undefined => {
  const queue: unknown = (pool as Record<string, unknown>)[field];
  if (typeof queue !== 'object' || queue === null) return undefined;
  const length: unknown = (queue as { length?: unknown }).length;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0 ? length : undefined;
};

/**
 * Reads a mysql2 pool's state from its internals (`_allConnections`, `_freeConnections`,
 * `_connectionQueue`): mysql2 has no public API for it, and counting `acquire`/`release` events
 * would drift when a connection dies while checked out. Returns undefined when the pool is gone
 * (data source closed) or a mysql2 upgrade changed those fields, so the gauge shows nothing
 * rather than a wrong figure.
 */
export function readDbPoolConnections(pool: unknown): DbPoolConnections | undefined {
  if (typeof pool !== 'object' || pool === null) return undefined;
  const all = lengthOf(pool, '_allConnections');
  const free = lengthOf(pool, '_freeConnections');
  const queued = lengthOf(pool, '_connectionQueue');
  if (all === undefined || free === undefined || queued === undefined) return undefined;
  return { inUse: Math.max(0, all - free), idle: free, waiting: queued };
}
