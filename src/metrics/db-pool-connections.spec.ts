import { readDbPoolConnections } from './db-pool-connections';

/** mysql2's pools keep their connections in ring queues that expose `length`. */
const queue = (length: number) => ({ length });

describe('readDbPoolConnections', () => {
  it('derives in use, idle and waiting from the pool queues', () => {
    expect(
      readDbPoolConnections({
        _allConnections: queue(5),
        _freeConnections: queue(2),
        _connectionQueue: queue(4),
      }),
    ).toEqual({ inUse: 3, idle: 2, waiting: 4 });
  });

  it('is undefined without a pool (data source not open or closed)', () => {
    expect(readDbPoolConnections(undefined)).toBeUndefined();
    expect(readDbPoolConnections(null)).toBeUndefined();
  });

  it('is undefined when a mysql2 upgrade renamed or reshaped the internals', () => {
    expect(
      readDbPoolConnections({ _allConnections: queue(1), _freeConnections: queue(1) }),
    ).toBeUndefined();
    expect(
      readDbPoolConnections({
        _allConnections: [1, 2],
        _freeConnections: { length: 'two' },
        _connectionQueue: queue(0),
      }),
    ).toBeUndefined();
  });
});
