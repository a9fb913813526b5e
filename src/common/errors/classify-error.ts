import { DataRejectedError } from './data-rejected.error';
import { SchemaError } from './schema.error';
import { SyncError } from './sync.error';
import { TransientError } from './transient.error';
import { UnexpectedError } from './unexpected.error';

/**
 * Driver error codes that mean "the database is unreachable or busy", not "this event is wrong".
 * Deadlocks and lock wait timeouts are here too: InnoDB rolls back only the statement on a lock
 * wait timeout, so the caller must roll back and retry the whole transaction.
 */
const TRANSIENT_MYSQL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_WRITE_INTERRUPTED',
  'ER_CANT_LOCK',
  'ER_LOCK_TABLE_FULL',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_UNKNOWN_COM_ERROR',
]);

/**
 * Server errors one event's data causes: the same statement with the same values fails the same
 * way every time, whatever else runs. Keyed by errno, since the names that mysql2 gives differ
 * from MariaDB's above 1900 (it calls MariaDB's 4025 ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE).
 */
export const DATA_ERRNOS: ReadonlyMap<number, string> = new Map([
  [1048, 'ER_BAD_NULL_ERROR'], // Column '...' cannot be null
  [1263, 'ER_WARN_NULL_TO_NOTNULL'], // NULL supplied to NOT NULL column
  [1264, 'ER_WARN_DATA_OUT_OF_RANGE'], // Out of range value for column
  [1265, 'WARN_DATA_TRUNCATED'], // Data truncated for column
  [1292, 'ER_TRUNCATED_WRONG_VALUE'], // Incorrect datetime/decimal value
  [1300, 'ER_INVALID_CHARACTER_STRING'], // Invalid utf8mb4 character string
  [1364, 'ER_NO_DEFAULT_FOR_FIELD'], // Field '...' doesn't have a default value
  [1365, 'ER_DIVISION_BY_ZERO'],
  [1366, 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'], // Incorrect integer/string value for column
  [1367, 'ER_ILLEGAL_VALUE_FOR_TYPE'],
  [1406, 'ER_DATA_TOO_LONG'], // Data too long for column
  [1411, 'ER_WRONG_VALUE_FOR_TYPE'], // Incorrect datetime value for function
  [1416, 'ER_CANT_CREATE_GEOMETRY_OBJECT'],
  [1441, 'ER_DATETIME_FUNCTION_OVERFLOW'],
  [1690, 'ER_DATA_OUT_OF_RANGE'], // BIGINT value is out of range in an expression
  [3140, 'ER_INVALID_JSON_TEXT'], // MySQL: invalid JSON text into a JSON column
  [3141, 'ER_INVALID_JSON_TEXT_IN_PARAM'], // MySQL
  [3155, 'ER_NUMERIC_JSON_VALUE_OUT_OF_RANGE'], // MySQL
  [3156, 'ER_INVALID_JSON_VALUE_FOR_CAST'], // MySQL
  [3819, 'ER_CHECK_CONSTRAINT_VIOLATED'], // MySQL 8: Check constraint '...' is violated
  [4025, 'ER_CONSTRAINT_FAILED'], // MariaDB: CONSTRAINT `...` failed (a CHECK, JSON_VALID too)
]);

/**
 * Server errors that say the tables are not what the service expects: a table, column, index or
 * database gone, or a privilege on them missing. No event is at fault, an operator must act.
 */
export const SCHEMA_ERRNOS: ReadonlyMap<number, string> = new Map([
  [1044, 'ER_DBACCESS_DENIED_ERROR'],
  [1049, 'ER_BAD_DB_ERROR'], // Unknown database
  [1051, 'ER_BAD_TABLE_ERROR'], // Unknown table
  [1054, 'ER_BAD_FIELD_ERROR'], // Unknown column
  [1109, 'ER_UNKNOWN_TABLE'], // Unknown table in a multi-table statement
  [1142, 'ER_TABLEACCESS_DENIED_ERROR'], // INSERT command denied to user for table
  [1143, 'ER_COLUMNACCESS_DENIED_ERROR'],
  [1146, 'ER_NO_SUCH_TABLE'], // Table '...' doesn't exist
  [1176, 'ER_KEY_DOES_NOT_EXIST'], // Key '...' doesn't exist in table
  [1356, 'ER_VIEW_INVALID'], // A view over a table or column that is gone
  [1932, 'ER_NO_SUCH_TABLE_IN_ENGINE'], // MariaDB: table in the data dictionary, not in InnoDB
]);

/** mysql2 raises these as plain messages without a code. */
const TRANSIENT_MESSAGES = [
  /Pool is closed/i,
  /Can't add new command when connection is in closed state/i,
  /Connection lost/i,
  /connect ETIMEDOUT/i,
  /Query inactivity timeout/i,
  /Timeout acquiring a connection/i,
];

/** A field of the driver's error, on it or on the `driverError` TypeORM wraps it in. */
function driverField(err: unknown, field: 'code' | 'errno' | 'sqlState'): unknown {
  if (typeof err !== 'object' || err === null) return undefined;
  const direct = (err as Record<string, unknown>)[field];
  if (direct !== undefined) return direct;
  const driverError = (err as { driverError?: unknown }).driverError;
  return driverError === undefined || driverError === err
    ? undefined
    : driverField(driverError, field);
}

function codeOf(err: unknown): string | undefined {
  const code = driverField(err, 'code');
  return typeof code === 'string' ? code : undefined;
}

function errnoOf(err: unknown): number | undefined {
  const errno = driverField(err, 'errno');
  return typeof errno === 'number' ? errno : undefined;
}

/** 4025 is MariaDB's failed CHECK (SQLSTATE 23000); in MySQL it is a DDL-only InnoDB error. */
function isDataErrno(errno: number, err: unknown): boolean {
  if (!DATA_ERRNOS.has(errno)) return false;
  return errno !== 4025 || driverField(err, 'sqlState') === '23000';
}

/** Turns whatever a driver threw into a typed error whose `retriable` flag the retry loop reads. */
export function classifyError(err: unknown): SyncError {
  if (err instanceof SyncError) return err;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined && TRANSIENT_MYSQL_CODES.has(code)) {
    return new TransientError('mysql', `${code}: ${message}`, { cause: err });
  }
  if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) {
    return new TransientError('mysql', message, { cause: err });
  }
  const errno = errnoOf(err);
  if (errno !== undefined && isDataErrno(errno, err)) {
    const name = DATA_ERRNOS.get(errno) as string;
    return new DataRejectedError(name, `${name}: ${message}`, { cause: err });
  }
  const schemaName = errno === undefined ? undefined : SCHEMA_ERRNOS.get(errno);
  if (schemaName !== undefined) {
    return new SchemaError(schemaName, `${schemaName}: ${message}`, { cause: err });
  }
  return new UnexpectedError(err);
}

/** MySQL's duplicate-key code, translated to a typed error at the repository edge. */
export function isDuplicateKey(err: unknown): boolean {
  return codeOf(err) === 'ER_DUP_ENTRY';
}
