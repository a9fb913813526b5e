import type { Connection as Mysql2Connection } from 'mysql2';
import { type EntityManager, QueryFailedError, type QueryRunner } from 'typeorm';
import { DuplicateKeyError } from '../common/errors/duplicate-key.error';
import { isDuplicateKey } from '../common/errors/classify-error';

export type SqlValue = string | number | boolean | Date | Buffer | null;

/**
 * The hot path's statements on the mysql2 connection of a TypeORM transaction, without
 * TypeORM's per-query work (its logger call, async broadcasts, result wrapping). Everything the
 * pool sets on its connections (session variables, deadlines) still applies; what TypeORM gave
 * per statement is kept where it is used: slow statements reach the data source's logger, and
 * query subscribers (tracing) still hear every statement when there are any.
 */
export class SqlConnection {
  private constructor(
    private readonly raw: Mysql2Connection,
    private readonly runner: QueryRunner,
    private readonly slowMs: number | undefined,
  ) {}

  /** The connection of the transaction `em` runs in (from `DataSource.transaction`). */
  static of(em: EntityManager): SqlConnection {
    const runner = em.queryRunner;
    const raw = runner?.isTransactionActive
      ? (runner as QueryRunner & { databaseConnection?: Mysql2Connection }).databaseConnection
      : undefined;
    if (runner === undefined || raw === undefined) {
      throw new Error('SqlConnection.of needs the entity manager of an open transaction');
    }
    return new SqlConnection(raw, runner, runner.connection.options.maxQueryExecutionTime);
  }

  /** Runs one statement; a duplicate key of `table` becomes DuplicateKeyError, here at the edge. */
  async query<T>(table: string, sql: string, params: unknown[]): Promise<T> {
    const traced = this.runner.connection.subscribers.length > 0;
    if (traced) await this.runner.broadcaster.broadcast('BeforeQuery', sql, params);
    const started = Date.now();
    let result: T | undefined;
    let error: unknown;
    try {
      result = await new Promise<T>((resolve, reject) => {
        this.raw.query(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T)));
      });
    } catch (err) {
      error = err;
    }
    const ms = Date.now() - started;
    if (this.slowMs !== undefined && ms > this.slowMs) {
      this.runner.connection.logger.logQuerySlow(ms, sql, params, this.runner);
    }
    if (traced) {
      const ok = error === undefined;
      await this.runner.broadcaster.broadcast('AfterQuery', sql, params, ok, ms, result, error);
    }
    if (error === undefined) return result as T;
    if (isDuplicateKey(error)) throw new DuplicateKeyError(table, { cause: error });
    // The same error TypeORM's own query would raise, so classification does not change.
    throw new QueryFailedError(sql, params, error as Error);
  }

  /** One multi-row INSERT; `onDuplicate` is the ON DUPLICATE KEY UPDATE clause, if any. */
  async insertRows(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    onDuplicate = '',
  ): Promise<void> {
    if (rows.length === 0) return;
    const update = onDuplicate === '' ? '' : ` ON DUPLICATE KEY UPDATE ${onDuplicate}`;
    await this.query(table, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ?${update}`, [
      rows,
    ]);
  }

  async deleteWhereIn(table: string, column: string, ids: readonly number[]): Promise<void> {
    if (ids.length > 0) {
      await this.query(table, `DELETE FROM ${table} WHERE ${column} IN (?)`, [ids]);
    }
  }
}
