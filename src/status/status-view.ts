import type { StatusSnapshot } from './status-snapshot';

/** A table of the page as text cells: the server escapes them, the browser sets textContent. */
export type Rows = string[][];

/**
 * The page's tables as rows of text, from one snapshot. The same functions run on the server
 * (the first render) and in the browser (every poll): the page's script carries their source,
 * so each must be self-contained, using its argument and built-ins only.
 */
export interface StatusViews {
  readonly tables: {
    readonly partitions: (s: StatusSnapshot) => Rows;
    readonly group: (s: StatusSnapshot) => Rows;
    readonly deadLetters: (s: StatusSnapshot) => Rows;
    readonly dependencies: (s: StatusSnapshot) => Rows;
  };
  /** The line under each table read from the broker or the database: its age, or its error. */
  readonly notes: (s: StatusSnapshot) => Record<string, string>;
}

export type TableName = keyof StatusViews['tables'];

export function partitionRows(s: StatusSnapshot): Rows {
  const owned = (here: boolean | null) => (here === null ? '?' : here ? 'yes' : 'no');
  return (s.partitions.value ?? []).map((p) => [
    p.topic,
    String(p.partition),
    p.committed ?? '–',
    p.highWatermark,
    String(p.lag),
    owned(p.ownedHere),
  ]);
}

export function memberRows(s: StatusSnapshot): Rows {
  return (s.group.value?.members ?? []).map((m) => [
    m.thisInstance ? `${m.memberId} (this instance)` : m.memberId,
    m.clientId,
    m.clientHost,
    m.partitions.join(', ') || '–',
  ]);
}

export function deadLetterRows(s: StatusSnapshot): Rows {
  return (s.deadLetters.value?.recent ?? []).map((d) => [
    d.createdAt,
    `${d.topic}/${d.partition}/${d.offset}`,
    d.errorType,
    d.errorMessage,
    d.resolved ? 'resolved' : 'open',
  ]);
}

export function dependencyRows(s: StatusSnapshot): Rows {
  const { mysql, redis, kafka } = s.dependencies;
  const pool = mysql.pool;
  const hitRate =
    redis.hitRate === null ? 'no lookups yet' : `${(redis.hitRate * 100).toFixed(1)} %`;
  const fetched =
    kafka.lastFetchAgeMs === undefined
      ? 'no fetch yet'
      : `last fetch ${(kafka.lastFetchAgeMs / 1000).toFixed(1)} s ago`;
  return [
    [
      'MySQL',
      pool === null ? 'pool closed' : 'pool open',
      pool === null ? '–' : `${pool.inUse} in use, ${pool.idle} idle, ${pool.waiting} waiting`,
    ],
    [
      'Redis',
      `circuit ${redis.circuit}`,
      `connection ${redis.connection}; hit rate ${hitRate} (${redis.hits} hits, ${redis.misses} misses, ${redis.errors} errors)`,
    ],
    [
      'Kafka',
      kafka.state,
      `${kafka.ready ? 'ready' : 'not ready'}; ${fetched}${kafka.lastError === undefined ? '' : `; last error: ${kafka.lastError}`}`,
    ],
  ];
}

export function readingNotes(s: StatusSnapshot): Record<string, string> {
  const note = (r: { readAt: string | null; error?: string }, what: string) =>
    (r.readAt === null ? `${what}: not read yet` : `${what} read at ${r.readAt}`) +
    (r.error === undefined ? '' : `; the last read failed: ${r.error}`);
  return {
    partitions: note(s.partitions, 'offsets'),
    group: `${note(s.group, 'group')}; state ${s.group.value?.state ?? 'unknown'}`,
    deadLetters: `${s.deadLetters.value?.unresolved ?? '?'} unresolved; ${note(s.deadLetters, 'sync_errors')}`,
    dependencies: `snapshot of ${s.generatedAt}`,
  };
}

export const STATUS_VIEWS: StatusViews = {
  tables: {
    partitions: partitionRows,
    group: memberRows,
    deadLetters: deadLetterRows,
    dependencies: dependencyRows,
  },
  notes: readingNotes,
};
