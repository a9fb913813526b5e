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

/** mysql2 raises these as plain messages without a code. */
const TRANSIENT_MESSAGES = [
  /Pool is closed/i,
  /Can't add new command when connection is in closed state/i,
  /Connection lost/i,
  /connect ETIMEDOUT/i,
  /Query inactivity timeout/i,
  /Timeout acquiring a connection/i,
];

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const direct = (err as { code?: unknown }).code;
  if (typeof direct === 'string') return direct;
  const driverError = (err as { driverError?: unknown }).driverError;
  return driverError === undefined ? undefined : codeOf(driverError);
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
  return new UnexpectedError(err);
}

/** MySQL's duplicate-key code, translated to a typed error at the repository edge. */
export function isDuplicateKey(err: unknown): boolean {
  return codeOf(err) === 'ER_DUP_ENTRY';
}
