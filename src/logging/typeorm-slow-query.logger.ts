import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** Long statements (a batch upsert) are cut: the start says which one it was. */
const MAX_SQL_CHARS = 1000;

export function truncateSql(sql: string): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_SQL_CHARS ? oneLine : `${oneLine.slice(0, MAX_SQL_CHARS)}…`;
}

/**
 * TypeORM's logger: slow queries (over `maxQueryExecutionTime`, i.e. SLOW_QUERY_THRESHOLD_MS) as
 * a warning with their duration, migrations at info, everything else quiet. Query parameters are
 * never logged: they hold customers' personal data. Failed queries are not logged here either:
 * the error reaches the caller, which classifies and logs it once.
 */
export class TypeOrmSlowQueryLogger implements TypeOrmLogger {
  private readonly logger = new Logger('TypeORM');

  constructor(private readonly thresholdMs: number) {}

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({
      msg: `slow query: ${time} ms`,
      durationMs: time,
      thresholdMs: this.thresholdMs,
      sql: truncateSql(query),
    });
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') this.logger.warn(text);
    else this.logger.debug(text);
  }

  logQuery(): void {
    // Every statement would flood the log; tracing times them when it is on.
  }

  logQueryError(): void {
    // Logged by the caller once it has classified the error (transient, duplicate key, bug).
  }
}
