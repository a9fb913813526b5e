import { escape, format } from 'mysql2';
import type { SqlValue } from './sql-connection';
import { SqlValuesWriter } from './sql-values.writer';

/** mysql2's own escape and format, as the pool's connections call them (timezone 'Z'). */
const mysql2Escape = (value: SqlValue) => escape(value, false, 'Z');
const mysql2Values = (rows: SqlValue[][]) => format('VALUES ?', [rows], false, 'Z');

describe('SqlValuesWriter', () => {
  it('writes hostile strings, numbers, booleans, NULL, Dates and bytes exactly as mysql2 does', () => {
    const now = new Date('2026-12-07T06:30:00.123Z');
    const rows: SqlValue[][] = [
      ['plain', 1, true, null, now, now],
      ["it's", -0.5, false, 'back\\slash', new Date('1999-01-01T00:00:00Z'), now],
      ['quote " and \0 NUL', 1e21, Number.NaN, '\n\r\t\b\x1a', new Date(Number.NaN), now],
      ['ünïcödé 💥 \u2028', Number.MAX_SAFE_INTEGER, 0, "'; DROP TABLE x; --", now, now],
      [Buffer.from([0, 39, 92, 255]), '', ' ', '\\', "''", now],
    ];
    expect(`VALUES ${new SqlValuesWriter(mysql2Escape).rows(rows)}`).toBe(mysql2Values(rows));
  });

  it('escapes a Date changed in place since it was last written anew', () => {
    const date = new Date('2026-12-07T06:30:00.000Z');
    const writer = new SqlValuesWriter(mysql2Escape);
    expect(writer.rows([[date]])).toBe("('2026-12-07 06:30:00.000')");
    date.setUTCFullYear(2027);
    expect(writer.rows([[date]])).toBe("('2027-12-07 06:30:00.000')");
  });
});
