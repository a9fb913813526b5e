import type { Connection as Mysql2Connection } from 'mysql2';
import { type DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { DuplicateKeyError } from '../common/errors/duplicate-key.error';
import { isDuplicateKey } from '../common/errors/classify-error';

export type SqlValue = string | number | boolean | Date | Buffer | null;

/**
 * A statement as written (what logs and traces may show), with its values (what is sent), and
 * the table a duplicate key in it would be of.
 */
interface Statement {
  readonly sql: string;
  readonly text: string;
  readonly table?: string;
}

const COMMIT: Statement = { sql: 'COMMIT', text: 'COMMIT' };

/** The statements as written, for the slow-query log and errors: never their values. */
function written(statements: readonly Statement[]): string {
  return statements.map((statement) => statement.sql).join(';\n');
}

/**
 * One transaction on one pooled mysql2 connection, its statements sent in as few round trips as
 * their order allows: writes are held back and go with the next read or with the COMMIT, and
 * START TRANSACTION goes with the first statement, as one multi-statement query (the pool allows
 * them; every value is escaped by mysql2, as in a single statement). An event that changes one
 * entity costs two round trips this way instead of six. TypeORM's per-query work (its logger
 * call, async broadcasts, result wrapping) is left out; what it gave per round trip is kept
 * where it is used: slow round trips reach the data source's logger, and query subscribers
 * (tracing) still hear each one when there are any. Statements that fail the same way inside a
 * multi-statement query fail the same way alone: MySQL stops at the first error and says why.
 */
export class SqlConnection {
  private readonly pending: Statement[] = [];
  private begun = false;

  private constructor(
    private readonly raw: Mysql2Connection,
    private readonly runner: QueryRunner,
    private readonly slowMs: number | undefined,
  ) {}

  /**
   * Runs `work` in one transaction on one connection of the data source's pool and commits it;
   * rolls back and rethrows when `work` or the commit fails. The connection goes back to the pool
   * either way.
   */
  static async transaction<T>(
    dataSource: DataSource,
    work: (db: SqlConnection) => Promise<T>,
  ): Promise<T> {
    const runner = dataSource.createQueryRunner();
    try {
      const raw = (await runner.connect()) as Mysql2Connection;
      const db = new SqlConnection(raw, runner, dataSource.options.maxQueryExecutionTime);
      try {
        const result = await work(db);
        await db.send([COMMIT]);
        await db.broadcast('AfterTransactionCommit');
        return result;
      } catch (err) {
        await db.rollback();
        throw err;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Runs one statement that returns something (with the writes held back before it); a
   * duplicate key becomes DuplicateKeyError, here at the edge.
   */
  async query<T>(table: string, sql: string, params: unknown[]): Promise<T> {
    const [result] = await this.queries(table, [{ sql, params }]);
    return result as T;
  }

  /** Runs statements that return something in one round trip; resolves with their results. */
  queries(
    table: string,
    statements: readonly { sql: string; params: unknown[] }[],
  ): Promise<unknown[]> {
    return this.send(
      statements.map(({ sql, params }) => ({ sql, text: this.raw.format(sql, params), table })),
    );
  }

  /** Holds a statement whose result nothing needs back, to go with the next round trip. */
  write(table: string, sql: string, params: unknown[]): void {
    this.pending.push({ sql, text: this.raw.format(sql, params), table });
  }

  /** Holds one multi-row INSERT; `onDuplicate` is the ON DUPLICATE KEY UPDATE clause, if any. */
  insertRows(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    onDuplicate = '',
  ): void {
    if (rows.length === 0) return;
    const update = onDuplicate === '' ? '' : ` ON DUPLICATE KEY UPDATE ${onDuplicate}`;
    this.write(table, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ?${update}`, [rows]);
  }

  deleteWhereIn(table: string, column: string, ids: readonly number[]): void {
    if (ids.length > 0) this.write(table, `DELETE FROM ${table} WHERE ${column} IN (?)`, [ids]);
  }

  /**
   * Sends START TRANSACTION (the first time), the held statements and `last` in one round trip;
   * resolves with the results of `last`. Subscribers hear each statement as written, never its
   * values.
   */
  private async send(last: readonly Statement[]): Promise<unknown[]> {
    const statements = [...this.pending, ...last];
    this.pending.length = 0;
    const texts = statements.map((statement) => statement.text);
    if (!this.begun) {
      this.begun = true;
      texts.unshift('START TRANSACTION');
      await this.broadcast('BeforeTransactionStart');
    }
    const traced = this.runner.connection.subscribers.length > 0;
    const queries = traced ? statements.filter((statement) => statement !== COMMIT) : [];
    if (traced) {
      for (const q of queries) await this.runner.broadcaster.broadcast('BeforeQuery', q.sql, []);
    }
    const started = Date.now();
    let result: unknown;
    let error: unknown;
    try {
      result = await new Promise<unknown>((resolve, reject) => {
        this.raw.query(texts.join(';\n'), (err, rows) => (err ? reject(err) : resolve(rows)));
      });
    } catch (err) {
      error = err;
    }
    const ms = Date.now() - started;
    if (this.slowMs !== undefined && ms > this.slowMs) {
      this.runner.connection.logger.logQuerySlow(ms, written(statements), [], this.runner);
    }
    if (traced) {
      const ok = error === undefined;
      for (const q of queries) {
        await this.runner.broadcaster.broadcast('AfterQuery', q.sql, [], ok, ms, undefined, error);
      }
    }
    if (error === undefined) {
      if (texts.length === 1) return [result];
      return (result as unknown[]).slice(texts.length - last.length);
    }
    if (isDuplicateKey(error)) {
      const tables = new Set(statements.flatMap((statement) => statement.table ?? []));
      throw new DuplicateKeyError([...tables].join(', '), { cause: error });
    }
    // The same error TypeORM's own query would raise, so classification does not change.
    throw new QueryFailedError(written(statements), [], error as Error);
  }

  /** Ends a failed transaction; a connection too broken to answer is mysql2's to drop. */
  private async rollback(): Promise<void> {
    if (!this.begun) return;
    await new Promise<void>((resolve) => this.raw.query('ROLLBACK', () => resolve()));
    await this.broadcast('AfterTransactionRollback');
  }

  /** Transaction events for query subscribers (tracing); nothing when there are none. */
  private async broadcast(
    event: 'BeforeTransactionStart' | 'AfterTransactionCommit' | 'AfterTransactionRollback',
  ): Promise<void> {
    if (this.runner.connection.subscribers.length > 0) {
      await this.runner.broadcaster.broadcast(event);
    }
  }
}
