import { format } from 'mysql2';
import { formatQuery } from './data-source-options';

/** The connection formatQuery runs on, as mysql2 passes it: its config (defaults) and time zone. */
const connection = { config: { stringifyObjects: false } };
const formatted = (sql: string, values: unknown) => formatQuery.call(connection, sql, values, 'Z');

describe('formatQuery', () => {
  it('formats statements with values as mysql2 does', () => {
    const cases: [string, unknown][] = [
      ['SELECT * FROM t WHERE id IN (?) AND name = ?', [[1, 2, 3], "it's"]],
      ['INSERT INTO t SET ?', [{ a: 1, b: new Date('2026-12-07T09:00:00.123Z') }]],
      ['SELECT ?? FROM t WHERE a = ?', [['x', 'y'], null]],
      ['SELECT ? AS v', 'one value, not in an array'],
    ];
    for (const [sql, values] of cases) {
      expect(formatted(sql, values)).toBe(
        format(sql, values as Parameters<typeof format>[1], false, 'Z'),
      );
    }
  });

  it('leaves a statement without values as it is, placeholders and all, as mysql2 does', () => {
    // A text formatted before, whose '?' are inside literals, and one with a bare '?'.
    for (const sql of ["INSERT INTO t VALUES ('why?', '?'), (1, '\\'?')", 'SELECT ? AS v']) {
      expect(formatted(sql, [])).toBe(sql);
      expect(formatted(sql, undefined)).toBe(sql);
      expect(format(sql, [], false, 'Z')).toBe(sql);
    }
  });
});
