import type { DataSource } from 'typeorm';

/** Tables the report counts: the CMS's entity tables, then the service's own bookkeeping. */
export const REPORTED_TABLES = [
  'cms_products',
  'cms_customers',
  'cms_orders',
  'cms_order_items',
  'processed_events',
  'sync_errors',
] as const;

export type ReportedTable = (typeof REPORTED_TABLES)[number];

export interface RecentActivity {
  /** processed_events rows by outcome (applied, stale). */
  readonly applied: number;
  readonly stale: number;
  /** sync_errors rows created in the window: invalid events dead-lettered. */
  readonly deadLettered: number;
}

export interface UnresolvedDeadLetters {
  readonly count: number;
  readonly oldest: Date | null;
}

/** A dead letter as the status page lists it: never the payload, which holds customers' data. */
export interface DeadLetterSummary {
  readonly createdAt: Date;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly errorType: string;
  /** Cut at DEAD_LETTER_MESSAGE_MAX characters. */
  readonly errorMessage: string;
  readonly resolved: boolean;
}

export const DEAD_LETTER_MESSAGE_MAX = 500;

/** The read-only queries of `npm run verify`, the demo's summary and the status page. */
export class SyncReportRepository {
  constructor(private readonly dataSource: DataSource) {}

  async rowCounts(): Promise<Record<ReportedTable, number>> {
    const counts = {} as Record<ReportedTable, number>;
    for (const table of REPORTED_TABLES) {
      const rows: { n: number | string }[] = await this.dataSource.query(
        `SELECT COUNT(*) AS n FROM \`${table}\``,
      );
      counts[table] = Number(rows[0]?.n ?? 0);
    }
    return counts;
  }

  /** What happened since `since`; duplicates are not stored anywhere, so they are not counted. */
  async activitySince(since: Date): Promise<RecentActivity> {
    const outcomes: { outcome: string; n: number | string }[] = await this.dataSource.query(
      'SELECT outcome, COUNT(*) AS n FROM processed_events WHERE processed_at >= ? GROUP BY outcome',
      [since],
    );
    const errors: { n: number | string }[] = await this.dataSource.query(
      'SELECT COUNT(*) AS n FROM sync_errors WHERE created_at >= ?',
      [since],
    );
    const count = (outcome: string) => Number(outcomes.find((o) => o.outcome === outcome)?.n ?? 0);
    return {
      applied: count('applied'),
      stale: count('stale'),
      deadLettered: Number(errors[0]?.n ?? 0),
    };
  }

  async unresolvedDeadLetters(): Promise<UnresolvedDeadLetters> {
    const rows: { n: number | string; oldest: Date | null }[] = await this.dataSource.query(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM sync_errors WHERE resolved_at IS NULL',
    );
    return { count: Number(rows[0]?.n ?? 0), oldest: rows[0]?.oldest ?? null };
  }

  /** The newest `limit` dead letters, resolved or not, newest first. */
  async recentDeadLetters(limit: number): Promise<DeadLetterSummary[]> {
    const rows: {
      created_at: Date;
      topic: string;
      kafka_partition: number;
      kafka_offset: string | number;
      error_type: string;
      error_message: string;
      resolved: number | string;
    }[] = await this.dataSource.query(
      `SELECT created_at, topic, kafka_partition, kafka_offset, error_type,
              LEFT(error_message, ${DEAD_LETTER_MESSAGE_MAX}) AS error_message,
              resolved_at IS NOT NULL AS resolved
         FROM sync_errors ORDER BY id DESC LIMIT ?`,
      [limit],
    );
    return rows.map((row) => ({
      createdAt: row.created_at,
      topic: row.topic,
      partition: Number(row.kafka_partition),
      offset: String(row.kafka_offset),
      errorType: row.error_type,
      errorMessage: row.error_message,
      resolved: Number(row.resolved) === 1,
    }));
  }
}
