import { classifyError, isDuplicateKey } from './classify-error';
import { DataRejectedError } from './data-rejected.error';
import { DuplicateKeyError } from './duplicate-key.error';
import { InvalidEventError } from './invalid-event.error';
import { SchemaError } from './schema.error';
import { TransientError } from './transient.error';
import { UnexpectedError } from './unexpected.error';

/** What mysql2 throws: an Error with a string `code`. */
const driverError = (code: string, message = `${code} happened`) =>
  Object.assign(new Error(message), { code });

describe('classifyError', () => {
  it.each([
    ['ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock; try restarting transaction'],
    ['ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout exceeded; try restarting transaction'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306'],
    ['PROTOCOL_CONNECTION_LOST', 'The server closed the connection.'],
  ])('classifies a driver error with code %s as a retriable TransientError', (code, message) => {
    const original = driverError(code, message);
    const error = classifyError(original);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retriable).toBe(true);
    expect(error).toMatchObject({ dependency: 'mysql' });
    expect(error.message).toBe(`${code}: ${message}`);
    expect(error.cause).toBe(original);
  });

  it('reads the code of a TypeORM-like wrapper: { driverError: { code: "ER_LOCK_DEADLOCK" } }', () => {
    const wrapped = { driverError: { code: 'ER_LOCK_DEADLOCK' } };
    const error = classifyError(wrapped);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('ER_LOCK_DEADLOCK');
  });

  it('classifies mysql2\'s "Pool is closed." message without a code as a retriable TransientError', () => {
    const error = classifyError(new Error('Pool is closed.'));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retriable).toBe(true);
    expect(error.message).toBe('Pool is closed.');
  });

  it.each([
    ['TransientError', new TransientError('redis', 'redis down')],
    ['DuplicateKeyError', new DuplicateKeyError('processed_events')],
    ['UnexpectedError', new UnexpectedError(new Error('bug'))],
    ['InvalidEventError', new InvalidEventError('invalid_json', 'not JSON')],
  ])('passes a %s through unchanged', (_name, original) => {
    expect(classifyError(original)).toBe(original);
  });

  it('keeps an InvalidEventError non-retriable', () => {
    const error = classifyError(new InvalidEventError('schema_violation', 'data.id: is required'));
    expect(error.retriable).toBe(false);
    expect(error).toBeInstanceOf(InvalidEventError);
  });

  it('turns an unknown Error into a retriable UnexpectedError that keeps message and cause', () => {
    const original = new TypeError("Cannot read properties of undefined (reading 'id')");
    const error = classifyError(original);
    expect(error).toBeInstanceOf(UnexpectedError);
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(original.message);
    expect(error.cause).toBe(original);
  });

  it('turns an unknown driver code (ER_PARSE_ERROR) into an UnexpectedError, not a TransientError', () => {
    const error = classifyError(driverError('ER_PARSE_ERROR'));
    expect(error).toBeInstanceOf(UnexpectedError);
  });

  it('turns a thrown non-Error value into an UnexpectedError with its text', () => {
    const error = classifyError('something odd');
    expect(error).toBeInstanceOf(UnexpectedError);
    expect(error.message).toBe('something odd');
  });
});

/** What mysql2 throws for a server error, wrapped the way TypeORM's QueryFailedError wraps it. */
const serverError = (code: string, errno: number, sqlMessage: string, sqlState = 'HY000') => {
  const driver = Object.assign(new Error(sqlMessage), { code, errno, sqlState, sqlMessage });
  return Object.assign(new Error(sqlMessage), { name: 'QueryFailedError', driverError: driver });
};

describe('classifyError: what the database refuses', () => {
  it.each([
    ['ER_DATA_TOO_LONG', 1406, "Data too long for column 'sku' at row 3", '22001'],
    [
      'ER_TRUNCATED_WRONG_VALUE',
      1292,
      "Incorrect datetime value: 'x' for column 'placed_at'",
      '22007',
    ],
    [
      'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
      1366,
      "Incorrect integer value: 'x' for column 'stock'",
      'HY000',
    ],
    ['ER_WARN_DATA_OUT_OF_RANGE', 1264, "Out of range value for column 'price' at row 1", '22003'],
    ['WARN_DATA_TRUNCATED', 1265, "Data truncated for column 'status' at row 1", '01000'],
    ['ER_BAD_NULL_ERROR', 1048, "Column 'name' cannot be null", '23000'],
    ['ER_NO_DEFAULT_FOR_FIELD', 1364, "Field 'extra' doesn't have a default value", 'HY000'],
    ['ER_DIVISION_BY_ZERO', 1365, 'Division by 0', '22012'],
    ['ER_CHECK_CONSTRAINT_VIOLATED', 3819, "Check constraint 'chk_price' is violated.", 'HY000'],
    ['ER_INVALID_JSON_TEXT', 3140, 'Invalid JSON text: "Invalid value."', '22032'],
  ])(
    'classifies %s (%i) as a non-retriable DataRejectedError carrying the MySQL message',
    (code, errno, sqlMessage, sqlState) => {
      const error = classifyError(serverError(code, errno, sqlMessage, sqlState));
      expect(error).toBeInstanceOf(DataRejectedError);
      expect(error.retriable).toBe(false);
      expect(error).toMatchObject({ code });
      expect(error.message).toBe(`${code}: ${sqlMessage}`);
    },
  );

  it("reads MariaDB's failed CHECK (4025, SQLSTATE 23000) as data, whatever name mysql2 gives it", () => {
    const sqlMessage = 'CONSTRAINT `chk_price` failed for `cms`.`cms_products`';
    const error = classifyError(
      serverError('ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE', 4025, sqlMessage, '23000'),
    );
    expect(error).toBeInstanceOf(DataRejectedError);
    expect(error.message).toBe(`ER_CONSTRAINT_FAILED: ${sqlMessage}`);
    // MySQL's own 4025 is a DDL error (SQLSTATE HY000): not an event's fault.
    expect(
      classifyError(serverError('ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE', 4025, 'x', 'HY000')),
    ).toBeInstanceOf(UnexpectedError);
  });

  it.each([
    ['ER_NO_SUCH_TABLE', 1146, "Table 'cms.cms_products' doesn't exist"],
    ['ER_BAD_FIELD_ERROR', 1054, "Unknown column 'sku' in 'field list'"],
    ['ER_BAD_TABLE_ERROR', 1051, "Unknown table 'cms.cms_products'"],
    ['ER_TABLEACCESS_DENIED_ERROR', 1142, "INSERT command denied to user 'cms'@'%' for table 'x'"],
  ])('classifies %s (%i) as a retriable SchemaError with the MySQL message', (code, errno, msg) => {
    const error = classifyError(serverError(code, errno, msg, '42S02'));
    expect(error).toBeInstanceOf(SchemaError);
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(`${code}: ${msg}`);
  });

  it('keeps deadlocks transient even though they carry an errno', () => {
    const error = classifyError(serverError('ER_LOCK_DEADLOCK', 1213, 'Deadlock found', '40001'));
    expect(error).toBeInstanceOf(TransientError);
  });
});

describe('isDuplicateKey', () => {
  it('is true for ER_DUP_ENTRY, directly or under driverError', () => {
    expect(
      isDuplicateKey(driverError('ER_DUP_ENTRY', "Duplicate entry 'e-1' for key 'PRIMARY'")),
    ).toBe(true);
    expect(isDuplicateKey({ driverError: { code: 'ER_DUP_ENTRY' } })).toBe(true);
  });

  it('is false for other codes and for values without a code', () => {
    expect(isDuplicateKey(driverError('ER_LOCK_DEADLOCK'))).toBe(false);
    expect(isDuplicateKey(new Error('Duplicate entry'))).toBe(false);
    expect(isDuplicateKey(null)).toBe(false);
    expect(isDuplicateKey('ER_DUP_ENTRY')).toBe(false);
  });
});
