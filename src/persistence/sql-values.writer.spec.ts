import { escape, format } from 'mysql2';
import type { SqlValue } from './sql-connection';
import { SqlValuesWriter } from './sql-values.writer';

/** mysql2's own escape and format, as the pool's connections call them (timezone 'Z'). */
const mysql2Escape = (value: SqlValue) => escape(value, false, 'Z');
const mysql2Values = (rows: SqlValue[][]) => format('VALUES ?', [rows], false, 'Z');
const written = (rows: SqlValue[][]) => `VALUES ${new SqlValuesWriter(mysql2Escape).rows(rows)}`;

describe('SqlValuesWriter', () => {
  it('writes hostile strings, numbers, booleans, NULL, Dates and bytes exactly as mysql2 does', () => {
    const now = new Date('2026-12-07T06:30:00.123Z');
    const rows: SqlValue[][] = [
      ['plain', 1, true, null, now, now],
      ["it's", -0.5, false, 'back\\slash', new Date('1999-01-01T00:00:00Z'), now],
      ['quote " and \0 NUL', 1e21, Number.NaN, '\n\r\t\b\x1a', new Date(Number.NaN), now],
      ['Latin-1 ünïcödé ÿ\xa0', Number.MAX_SAFE_INTEGER, 0, "'; DROP TABLE x; --", now, now],
      [Buffer.from([0, 39, 92, 255]), '', ' ', '\\', "''", now],
    ];
    expect(written(rows)).toBe(mysql2Values(rows));
  });

  it('writes every Date as mysql2 does: four-digit years and beyond, runs on one day', () => {
    const edges = [
      '0000-01-01T00:00:00.000Z',
      '0001-02-03T04:05:06.007Z',
      '0999-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00.000Z',
      '-000001-12-31T23:59:59.999Z',
    ].map((iso) => new Date(iso));
    // 2,000 times spread over years 0 to 9999, milliseconds included.
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const spread = Array.from(
      { length: 2000 },
      () => new Date(-62167219200000 + random() * 3.2e14),
    );
    // Runs on one day, as a chunk's events mostly are, across midnight, before 1970 too.
    const days = [Date.UTC(2026, 11, 7), Date.UTC(1969, 11, 31, 12)].flatMap((start) =>
      Array.from({ length: 500 }, (_, i) => new Date(start + i * 172_799)),
    );
    const rows = [...edges, ...spread, ...days].map((date): SqlValue[] => [date]);
    expect(written(rows)).toBe(mysql2Values(rows));
  });

  it('writes a string with a character beyond Latin-1 as the hex of its UTF-8 bytes', () => {
    const rows: SqlValue[][] = [['Café ☕', 'emoji 💥', "it's 中文", '\u2028', 'lone \ud800']];
    expect(written(rows)).toBe(
      `VALUES (${rows[0]!.map((value) => `_utf8mb4 X'${Buffer.from(value as string).toString('hex')}'`).join(', ')})`,
    );
    // So the text stays one byte per character in V8, where one such character doubles it.
    expect(written(rows)).toMatch(/^[\x20-\x7e]*$/);
  });

  it('writes a Date changed in place since it was last written anew', () => {
    const date = new Date('2026-12-07T06:30:00.000Z');
    const writer = new SqlValuesWriter(mysql2Escape);
    expect(writer.rows([[date]])).toBe("('2026-12-07 06:30:00.000')");
    date.setUTCFullYear(2027);
    expect(writer.rows([[date]])).toBe("('2027-12-07 06:30:00.000')");
  });
});
