import { truncateSql } from './typeorm-slow-query.logger';

describe('truncateSql', () => {
  it('puts a statement on one line', () => {
    expect(truncateSql('SELECT *\n   FROM  t\n WHERE id = ?')).toBe('SELECT * FROM t WHERE id = ?');
  });

  it('cuts a long statement at 1000 characters and says so', () => {
    const long = `INSERT INTO t VALUES ${'(?, ?), '.repeat(500)}`;
    const cut = truncateSql(long);
    expect(cut).toHaveLength(1001);
    expect(cut.endsWith('…')).toBe(true);
  });
});
