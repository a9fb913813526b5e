import { thresholdViolations } from './verify-thresholds';

const lags = [
  { topic: 'product.changed', partition: 0, lag: 3 },
  { topic: 'product.changed', partition: 1, lag: 0 },
  { topic: 'order.changed', partition: 2, lag: 9 },
];

describe('thresholdViolations', () => {
  it('checks nothing without thresholds', () => {
    expect(thresholdViolations(lags, 50, { maxLag: undefined, maxUnresolved: undefined })).toEqual(
      [],
    );
  });

  it('names every partition whose lag is above --max-lag, and only those', () => {
    expect(thresholdViolations(lags, 0, { maxLag: 3, maxUnresolved: undefined })).toEqual([
      'consumer lag 9 on order.changed[2] exceeds --max-lag 3',
    ]);
    expect(thresholdViolations(lags, 0, { maxLag: 2, maxUnresolved: undefined })).toHaveLength(2);
  });

  it('allows exactly --max-unresolved dead letters and names the threshold above it', () => {
    expect(thresholdViolations([], 4, { maxLag: undefined, maxUnresolved: 4 })).toEqual([]);
    expect(thresholdViolations([], 5, { maxLag: 0, maxUnresolved: 4 })).toEqual([
      '5 unresolved dead letters exceed --max-unresolved 4',
    ]);
  });
});
