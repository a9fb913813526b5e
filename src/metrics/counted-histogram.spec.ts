import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from './counted-histogram';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The same observations into prom-client's Histogram, one by one, and into CountedHistogram. */
function both(observations: readonly [string, number, number][]) {
  const theirs = new Registry();
  const ours = new Registry();
  const config = { name: 'x_seconds', help: 'Time it took', buckets: BUCKETS };
  const histogram = new Histogram({ ...config, labelNames: ['entity'], registers: [theirs] });
  const counted = new CountedHistogram({ ...config, labelName: 'entity', registers: [ours] });
  for (const [entity, value, count] of observations) {
    for (let i = 0; i < count; i++) histogram.observe({ entity }, value);
    counted.observe(entity, value, count);
  }
  return { theirs, ours, counted };
}

/** Scrape lines; `_sum` lines split off, as a sum of n values and n times a value may differ in the last bits. */
async function scrape(registry: Registry) {
  const lines = (await registry.metrics()).split('\n');
  const sums = lines.filter((line) => line.startsWith('x_seconds_sum'));
  return { lines: lines.filter((line) => !sums.includes(line)), sums };
}

describe('CountedHistogram', () => {
  it('scrapes as the same text as prom-client Histogram given the same observations', async () => {
    // Values on every bound (a bound is inclusive), between bounds, 0, above every bound, and
    // three label values seen in a mixed order; counts of 1 to 500.
    const observations: [string, number, number][] = [];
    const values = [0, ...BUCKETS, ...BUCKETS.map((bound) => bound * 1.5), 0.0004, 45, 1e6];
    values.forEach((value, i) => {
      observations.push([
        ['product', 'customer', 'order'][i % 3] as string,
        value,
        1 + ((i * 37) % 500),
      ]);
    });
    const { theirs, ours } = both(observations);
    const [want, got] = [await scrape(theirs), await scrape(ours)];
    expect(got.lines).toEqual(want.lines);
    expect(got.lines.filter((line) => line.startsWith('x_seconds_bucket'))).toHaveLength(3 * 15);
    expect(got.sums.map((line) => line.split(' ')[0])).toEqual(
      want.sums.map((line) => line.split(' ')[0]),
    );
    got.sums.forEach((line, i) => {
      const value = Number(line.split(' ')[1]);
      expect(value).toBeCloseTo(Number(want.sums[i]?.split(' ')[1]), 6);
      expect(value).toBeGreaterThan(0);
    });
  });

  it('counts one observation by default and starts each label value at its first observation', async () => {
    const { ours } = both([['order', 0.003, 1]]);
    const text = await ours.metrics();
    expect(text).toContain('# TYPE x_seconds histogram');
    expect(text).toContain('x_seconds_bucket{le="0.0025",entity="order"} 0');
    expect(text).toContain('x_seconds_bucket{le="0.005",entity="order"} 1');
    expect(text).toContain('x_seconds_count{entity="order"} 1');
    expect(text).not.toContain('entity="product"');
  });

  it('is emptied by the registry reset and refuses a value that is not a finite number', async () => {
    const { ours, counted } = both([['product', 0.2, 3]]);
    ours.resetMetrics();
    expect(await ours.metrics()).not.toContain('x_seconds_count');
    expect(() => counted.observe('product', Number.NaN, 2)).toThrow('not a valid number');
    expect(await ours.getMetricsAsJSON()).toEqual([
      expect.objectContaining({ name: 'x_seconds', type: 'histogram', values: [] }),
    ]);
  });
});
