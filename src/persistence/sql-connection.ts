import type { Connection as Mysql2Connection } from 'mysql2';
import { type DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { DuplicateKeyError } from '../common/errors/duplicate-key.error';
import { isDuplicateKey } from '../common/errors/classify-error';
import { CARRIED_COMMIT } from './connection-deadline';
import { SqlValuesWriter } from './sql-values.writer';

export type SqlValue = string | number | boolean | Date | Buffer | null;

/**
 * A statement a repository builds for the unit of work to send with others in one round trip,
 * with the table a duplicate key in it would be of.
 */
export interface SqlStatement {
  readonly table: string;
  readonly sql: string;
  readonly params: unknown[];
}

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
const START: Statement = { sql: 'START TRANSACTION', text: 'START TRANSACTION' };
/**
 * A COMMIT and the START TRANSACTION right after it, sent as one statement: in a session that is
 * one statement fewer per transaction, which cut MariaDB's CPU per event-mode transaction by
 * 7-11% (bench/HISTORY.md). The new transaction has the session's isolation level, as after
 * START TRANSACTION.
 */
const CHAIN: Statement = { sql: CARRIED_COMMIT, text: CARRIED_COMMIT };

/** Whether a write's result (mysql2's ResultSetHeader) says it changed exactly one row. */
export function changedOneRow(result: unknown): boolean {
  return (result as { affectedRows: number }).affectedRows === 1;
}

const isCommit = (statement: Statement) => statement === COMMIT || statement === CHAIN;

/** What query subscribers hear of: every statement but the transaction's own. */
const isQuery = (statement: Statement) => !isCommit(statement) && statement !== START;

/** `carried` and then START TRANSACTION: a carried COMMIT and the START go as one CHAIN. */
function thenStart(carried: readonly Statement[]): Statement[] {
  return carried[carried.length - 1] === COMMIT
    ? [...carried.slice(0, -1), CHAIN]
    : [...carried, START];
}

/**
 * A run of transactions on one connection, each COMMIT carried by the next transaction's first
 * round trip: a transaction of one locking read and its writes costs one round trip, not two.
 */
export interface SqlSession {
  /**
   * Runs `work` as the session's next transaction and holds its writes and COMMIT back for the
   * next one (or `flush`). So when this resolves, the transaction before it is committed and
   * this one is not yet. When it rejects, the session is over: it rolls back what is open and
   * refuses further work, and `committed` tells whether the transaction before it got through.
   */
  transaction<T>(work: (db: SqlConnection) => Promise<T>): Promise<T>;
  /** Sends the held COMMIT: once this resolves, every transaction of the session is committed. */
  flush(): Promise<void>;
  /**
   * How many of the session's transactions are known to be committed. A round trip that fails
   * after the COMMIT it carried was answered still counts that COMMIT: MySQL runs the statements
   * of a round trip in order and stops at the first error.
   */
  readonly committed: number;
}

/** The statements as written, for the slow-query log and errors: never their values. */
function written(statements: readonly Statement[]): string {
  return statements.map((statement) => statement.sql).join(';\n');
}

/**
 * One transaction on one pooled mysql2 connection, its statements sent in as few round trips as
 * their order allows: writes are held back and go with the next read or with the COMMIT, and
 * START TRANSACTION goes with the first statement, as one multi-statement query (the pool allows
 * them; every value is escaped by mysql2, as in a single statement, or written to its rules by
 * SqlValuesWriter). An event that changes one entity costs two round trips this way instead of
 * six, and one in a session, where the COMMIT goes with the next transaction's first statements.
 * TypeORM's per-query work (its logger call, async broadcasts, result wrapping) is left out;
 * what it gave per round trip is kept where it is used: slow round trips reach the data source's
 * logger, and query subscribers (tracing) still hear each one when there are any. Statements
 * that fail the same way inside a multi-statement query fail the same way alone: MySQL stops at
 * the first error and says why.
 */
export class SqlConnection {
  private readonly pending: Statement[] = [];
  private begun = false;
  private readonly values: SqlValuesWriter;

  /** Whether a transaction of the session may be open on the connection before this one. */
  private readonly inherited: boolean;

  /** How many COMMITs of the session's earlier transactions this one's round trip got through. */
  private carriedCommits = 0;

  private constructor(
    private readonly raw: Mysql2Connection,
    private readonly runner: QueryRunner,
    private readonly slowMs: number | undefined,
    /** The session's previous transaction, still unsent: its writes and COMMIT go first. */
    private carried: readonly Statement[],
  ) {
    this.inherited = carried.length > 0;
    this.values = new SqlValuesWriter((value) => raw.escape(value));
  }

  /**
   * Runs `work` in one transaction on one connection of the data source's pool and commits it;
   * rolls back and rethrows when `work` or the commit fails. The connection goes back to the pool
   * either way.
   */
  static transaction<T>(
    dataSource: DataSource,
    work: (db: SqlConnection) => Promise<T>,
  ): Promise<T> {
    return SqlConnection.session(dataSource, (session) => session.transaction(work));
  }

  /**
   * Runs `body` with one connection of the data source's pool for a run of transactions (see
   * SqlSession), commits the last one and gives the connection back. When `body` or a commit
   * fails, what is open is rolled back and the error rethrown: which transactions committed is
   * then known only to the database (a caller re-checks there).
   */
  static async session<T>(
    dataSource: DataSource,
    body: (session: SqlSession) => Promise<T>,
  ): Promise<T> {
    const runner = dataSource.createQueryRunner();
    try {
      const raw = (await runner.connect()) as Mysql2Connection;
      const slowMs = dataSource.options.maxQueryExecutionTime;
      let carried: readonly Statement[] = [];
      let failed = false;
      let committed = 0;
      /** Runs one step of the session; a failure rolls back whatever is open and ends it. */
      const step = async <R>(db: SqlConnection, run: () => Promise<R>): Promise<R> => {
        if (failed) throw new Error('the SQL session failed earlier; start a new one');
        carried = [];
        try {
          return await run();
        } catch (err) {
          failed = true;
          await db.rollback();
          throw err;
        } finally {
          committed += db.carriedCommits;
        }
      };
      const session: SqlSession = {
        get committed() {
          return committed;
        },
        transaction: (work) => {
          const db = new SqlConnection(raw, runner, slowMs, carried);
          return step(db, async () => {
            const result = await work(db);
            carried = db.hold();
            return result;
          });
        },
        flush: async () => {
          if (carried.length === 0) return;
          const db = new SqlConnection(raw, runner, slowMs, carried);
          db.begun = true;
          await step(db, () => db.send([]));
        },
      };
      try {
        const result = await body(session);
        await session.flush();
        return result;
      } catch (err) {
        // A transaction whose COMMIT was still held is open, with its locks: end it here.
        if (!failed && carried.length > 0) {
          await new SqlConnection(raw, runner, slowMs, carried).rollback();
        }
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
    const [result] = await this.queries([{ table, sql, params }]);
    return result as T;
  }

  /**
   * Runs statements whose results are needed in one round trip (with the writes held back
   * before them); resolves with their results, in order.
   */
  queries(statements: readonly SqlStatement[]): Promise<unknown[]> {
    return this.send(
      statements.map(({ table, sql, params }) => ({
        sql,
        text: this.raw.format(sql, params),
        table,
      })),
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
    const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    this.pending.push({
      sql: `${head}?${update}`,
      text: `${head}${this.values.rows(rows)}${update}`,
      table,
    });
  }

  deleteWhereIn(table: string, column: string, ids: readonly number[]): void {
    if (ids.length > 0) this.write(table, `DELETE FROM ${table} WHERE ${column} IN (?)`, [ids]);
  }

  /** Holds one DELETE of the rows that match `condition` for any of `params`, one list each. */
  deleteWhereAny(table: string, condition: string, params: readonly SqlValue[][]): void {
    if (params.length === 0) return;
    const where = params.map(() => condition).join(' OR ');
    this.write(table, `DELETE FROM ${table} WHERE ${where}`, params.flat());
  }

  /**
   * Ends a session's transaction without a round trip: what is still unsent (a transaction that
   * sent nothing passes on what it was carrying) is for the next transaction to carry.
   */
  private hold(): Statement[] {
    if (!this.begun) {
      return this.pending.length === 0
        ? [...this.carried]
        : [...thenStart(this.carried), ...this.pending, COMMIT];
    }
    return [...this.pending, COMMIT];
  }

  /**
   * Sends what is carried from the session's previous transaction, START TRANSACTION (the first
   * time), the held statements and `last` in one round trip; resolves with the results of
   * `last`. Subscribers hear each statement as written, never its values; a carried COMMIT ends
   * the previous transaction's span as it is sent.
   */
  private async send(last: readonly Statement[]): Promise<unknown[]> {
    const carried = this.carried;
    this.carried = [];
    const own = [...this.pending, ...last];
    this.pending.length = 0;
    const statements = carried.length === 0 ? own : [...carried, ...own];
    const traced = this.runner.connection.subscribers.length > 0;
    const carriedQueries = traced ? carried.filter(isQuery) : [];
    const ownQueries = traced ? own.filter(isQuery) : [];
    // A COMMIT carried into a new transaction ends its span as it is sent, so that the new one's
    // can start; one sent alone (a flush) ends it once answered.
    const commits = carried.includes(COMMIT);
    const starts = !this.begun;
    for (const q of carriedQueries) {
      await this.runner.broadcaster.broadcast('BeforeQuery', q.sql, []);
    }
    if (commits && starts) await this.broadcast('AfterTransactionCommit');
    if (starts) {
      this.begun = true;
      await this.broadcast('BeforeTransactionStart');
    }
    const sent = starts ? [...thenStart(carried), ...own] : statements;
    const texts = sent.map((statement) => statement.text);
    for (const q of ownQueries) await this.runner.broadcaster.broadcast('BeforeQuery', q.sql, []);
    const started = Date.now();
    let result: unknown;
    let error: unknown;
    // mysql2 emits `fields` once per statement answered, in order: a COMMIT counts as answered
    // once that many statements passed it, even when a later one fails.
    let answered = 0;
    try {
      result = await new Promise<unknown>((resolve, reject) => {
        const query = this.raw.query(texts.join(';\n'), (err, rows) =>
          err ? reject(err) : resolve(rows),
        );
        if (commits) query.on('fields', () => answered++);
      });
    } catch (err) {
      error = err;
    }
    if (commits) {
      // Only carried statements commit, and they come first.
      sent.forEach((statement, i) => {
        if (isCommit(statement) && (error === undefined || i < answered)) this.carriedCommits++;
      });
    }
    const ms = Date.now() - started;
    if (this.slowMs !== undefined && ms > this.slowMs) {
      this.runner.connection.logger.logQuerySlow(ms, written(statements), [], this.runner);
    }
    if (traced) {
      const ok = error === undefined;
      for (const q of [...carriedQueries, ...ownQueries]) {
        await this.runner.broadcaster.broadcast('AfterQuery', q.sql, [], ok, ms, undefined, error);
      }
    }
    if (error === undefined) {
      if (commits && !starts) await this.broadcast('AfterTransactionCommit');
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
    if (!this.begun && !this.inherited) return;
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
