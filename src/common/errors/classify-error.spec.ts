import { classifyError, isDuplicateKey } from './classify-error';
import { DuplicateKeyError } from './duplicate-key.error';
import { InvalidEventError } from './invalid-event.error';
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
