import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import * as mysql2 from 'mysql2';
import type { Connection, Pool, PoolConnection, PoolOptions } from 'mysql2';

/**
 * mysql2 3.x internals the deadline builds on: every round trip (query, execute and its prepare,
 * ping, the transaction statements TypeORM sends as queries, raw driver calls) is a command passed
 * to `addCommand`, and a command emits `end` once its answer is complete. mysql2's own per-query
 * `timeout` is not enough: it starts only when the command reaches the head of the queue (a
 * ROLLBACK behind a frozen statement never starts), and it leaves the connection in the pool with
 * the unanswered command still at its head, so the next user of that connection hangs.
 */
interface DriverCommand extends EventEmitter {
  readonly sql?: unknown;
}

interface DriverConnection {
  addCommand(command: DriverCommand): DriverCommand;
  readonly stream: Socket;
}

interface DriverPool {
  readonly _freeConnections?: { readonly length: number; get(index: number): PoolConnection };
}

/** The code mysql2 gives its own query timeout; classifyError counts it as transient. */
export const DEADLINE_ERROR_CODE = 'PROTOCOL_SEQUENCE_TIMEOUT';

const BEGINS = /^\s*(START\s+TRANSACTION|BEGIN)\b/i;
/** COMMIT and ROLLBACK in any spelling (`COMMIT;`, `ROLLBACK WORK`), but not ROLLBACK TO SAVEPOINT. */
const ENDS = /^\s*(COMMIT|ROLLBACK)\b(?!\s+TO\b)/i;
/** The same as the last statement of a multi-statement query (`…; COMMIT`). */
const ENDS_LAST = /;\s*(COMMIT|ROLLBACK)(\s+WORK)?\s*;?\s*$/i;

/** The statement by which a session's round trip commits one transaction and starts the next. */
export const CARRIED_COMMIT = 'COMMIT AND CHAIN';
const CARRIED_COMMIT_AFTER = `;\n${CARRIED_COMMIT}`;

/**
 * Whether `sql` commits a transaction and starts the next: CARRIED_COMMIT as its first statement
 * or after ";\n" (SqlConnection joins its statements so, and a newline inside a value is
 * escaped, so values cannot fake it).
 */
function restartsTransaction(sql: string): boolean {
  return sql.startsWith(CARRIED_COMMIT) || sql.includes(CARRIED_COMMIT_AFTER);
}

/** Whether `sql` ends its transaction; only its tail is searched, however long it is. */
function endsTransaction(sql: string): boolean {
  return ENDS.test(sql) || ENDS_LAST.test(sql.slice(-32));
}

function deadlineError(what: string, deadlineMs: number): Error {
  return Object.assign(
    new Error(
      `MySQL did not complete ${what} within ${deadlineMs} ms (DB_STATEMENT_TIMEOUT_MS); ` +
        'the connection was destroyed',
    ),
    { code: DEADLINE_ERROR_CODE, fatal: true },
  );
}

const guarded = new WeakSet<object>();

/**
 * Bounds every round trip on `connection`, from the moment it is queued, and every transaction,
 * from START TRANSACTION to its COMMIT or ROLLBACK, by `deadlineMs`. Past it the socket is
 * destroyed with a `PROTOCOL_SEQUENCE_TIMEOUT` error: mysql2 fails the running and the queued
 * commands with it and drops the connection from its pool, exactly as after a network error, so
 * nothing can reuse a connection whose answer may still be on its way. `onExpired` runs after.
 */
export function guardConnection(
  connection: Connection,
  deadlineMs: number,
  onExpired: () => void = () => undefined,
): void {
  if (guarded.has(connection)) return;
  guarded.add(connection);
  const driver = connection as unknown as DriverConnection;
  const addCommand = driver.addCommand.bind(connection);
  let transaction: NodeJS.Timeout | undefined;
  const expire = (what: string) => {
    clearTimeout(transaction);
    if (driver.stream.destroyed) return;
    driver.stream.destroy(deadlineError(what, deadlineMs));
    onExpired();
  };
  driver.addCommand = (command) => {
    const sql = typeof command.sql === 'string' ? command.sql : '';
    const restarts = restartsTransaction(sql);
    if (restarts || BEGINS.test(sql)) {
      clearTimeout(transaction);
      transaction = setTimeout(() => expire('a transaction'), deadlineMs).unref();
    }
    const name = sql === '' ? command.constructor.name : sql.slice(0, 40).replace(/\s+/g, ' ');
    const timer = setTimeout(() => expire(`"${name}"`), deadlineMs).unref();
    command.once('end', () => {
      clearTimeout(timer);
      if (!restarts && endsTransaction(sql)) clearTimeout(transaction);
    });
    return addCommand(command);
  };
}

/**
 * Idle connections of a pool where one connection just missed its deadline are most likely on
 * the same dead path (a failover left the old address blackholed): they are dropped, so that the
 * retry opens a fresh connection instead of waiting out a deadline on each stale one in turn.
 */
function dropIdleConnections(pool: Pool): void {
  const free = (pool as unknown as DriverPool)._freeConnections;
  if (free === undefined) return;
  const idle: PoolConnection[] = [];
  for (let i = 0; i < free.length; i++) idle.push(free.get(i));
  for (const connection of idle) {
    connection.destroy();
    (connection as unknown as DriverConnection).stream.destroy();
  }
}

/**
 * A pool whose connections all carry the deadline (installed on `connection`, before any other
 * listener sends a statement) and whose `getConnection` gives up after `deadlineMs`: mysql2 3.x
 * queues a request for a connection for ever when the pool is at its limit. A connection that
 * arrives after its requester gave up goes straight back to the pool.
 */
export function createDeadlinePool(options: PoolOptions, deadlineMs: number): Pool {
  const pool = mysql2.createPool({ ...options, connectTimeout: deadlineMs });
  pool.on('connection', (connection) =>
    guardConnection(connection, deadlineMs, () => dropIdleConnections(pool)),
  );
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (
    callback: (err: NodeJS.ErrnoException | null, c: PoolConnection) => void,
  ) => {
    let waiting = true;
    const timer = setTimeout(() => {
      waiting = false;
      callback(
        new Error(`Timeout acquiring a connection from the pool within ${deadlineMs} ms`),
        undefined as unknown as PoolConnection,
      );
    }, deadlineMs).unref();
    getConnection((err, connection) => {
      if (!waiting) {
        if (err === null) connection.release();
        return;
      }
      waiting = false;
      clearTimeout(timer);
      callback(err, connection);
    });
  };
  return pool;
}

/**
 * mysql2 as TypeORM's `driver` option: the module itself, except that its pools carry the
 * deadline. TypeORM creates its pool through `createPool` and sends every statement, BEGIN and
 * COMMIT included, through the pooled connections' `query`.
 */
export function mysql2WithDeadline(deadlineMs: number): typeof mysql2 {
  return {
    ...mysql2,
    createPool: (options: PoolOptions) => createDeadlinePool(options, deadlineMs),
  } as typeof mysql2;
}
