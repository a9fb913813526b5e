import { configRows, renderStatusPage } from './status-page.html';
import type { StatusSnapshot } from './status-snapshot';
import { STATUS_VIEWS } from './status-view';

const HOSTILE = '<img src=x onerror="alert(1)">&\'';

const snapshot: StatusSnapshot = {
  generatedAt: '2026-12-01T10:00:00.000Z',
  groupId: 'cms-sync',
  partitions: {
    readAt: '2026-12-01T10:00:00.000Z',
    value: [
      {
        topic: 'product.changed',
        partition: 0,
        committed: '12',
        highWatermark: '15',
        lag: 3,
        ownedHere: true,
      },
    ],
  },
  group: { readAt: null, value: null, error: 'broker down' },
  rates: { intervalMs: 5000, samples: [] },
  deadLetters: {
    readAt: '2026-12-01T10:00:00.000Z',
    value: {
      unresolved: 1,
      recent: [
        {
          createdAt: '2026-12-01T09:59:00.000Z',
          topic: 'product.changed',
          partition: 0,
          offset: '11',
          errorType: 'invalid_json',
          errorMessage: HOSTILE,
          resolved: false,
        },
      ],
    },
  },
  dependencies: {
    mysql: { pool: { inUse: 1, idle: 4, waiting: 0 } },
    redis: { connection: 'ready', circuit: 'closed', hits: 3, misses: 1, errors: 0, hitRate: 0.75 },
    kafka: { state: 'joined', hasJoined: true, ready: true, lastFetchAgeMs: 1200 },
  },
  configuration: { tracing: { endpoint: HOSTILE } },
};

const assets = { scripts: ['assets/a.js'], stylesheets: ['assets/a.css'] };

describe('renderStatusPage', () => {
  it('escapes every value: a hostile error message and configuration stay text', () => {
    const html = renderStatusPage(snapshot, STATUS_VIEWS, assets);
    expect(html).not.toContain('<img');
    // Once in the dead letters, once in the configuration.
    expect(html.split('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;')).toHaveLength(3);
  });

  it('fills the tables from the snapshot and names a failed broker read', () => {
    const html = renderStatusPage(snapshot, STATUS_VIEWS, assets);
    expect(html).toContain(
      '<tr><td>product.changed</td><td>0</td><td>12</td><td>15</td><td>3</td><td>yes</td></tr>',
    );
    expect(html).toContain('the last read failed: broker down');
    expect(html).toContain('1 in use, 4 idle, 0 waiting');
    expect(html).toContain('hit rate 75.0 %');
    expect(html).toContain('<script src="assets/a.js"></script>');
  });
});

describe('configRows', () => {
  it('flattens nested settings into dotted paths, lists and nulls as JSON', () => {
    expect(
      configRows({ kafka: { brokers: ['a:1', 'b:2'], sasl: null }, logLevel: 'info' }),
    ).toEqual([
      ['kafka.brokers', '["a:1","b:2"]'],
      ['kafka.sasl', 'null'],
      ['logLevel', 'info'],
    ]);
  });
});
