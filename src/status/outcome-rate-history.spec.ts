import { type OutcomeCounts, OutcomeRateHistory } from './outcome-rate-history';

const counts = (applied: number, invalid = 0): OutcomeCounts => ({
  applied,
  duplicate: 0,
  stale: 0,
  invalid,
  failed: 0,
});

describe('OutcomeRateHistory', () => {
  it('has no rate before two samples, then events per second per interval', () => {
    const history = new OutcomeRateHistory(10);
    history.record(0, counts(0));
    expect(history.rates()).toEqual([]);
    history.record(5000, counts(50, 5));
    history.record(10_000, counts(60, 5));
    expect(history.rates()).toEqual([
      { at: 5000, ...counts(10, 1) },
      { at: 10_000, ...counts(2, 0) },
    ]);
  });

  it('keeps only the last `capacity` intervals', () => {
    const history = new OutcomeRateHistory(2);
    for (let i = 0; i <= 5; i += 1) history.record(i * 1000, counts(i));
    expect(history.rates().map((r) => r.at)).toEqual([4000, 5000]);
  });

  it('counts a counter that went down as 0, never negative', () => {
    const history = new OutcomeRateHistory(5);
    history.record(0, counts(100));
    history.record(1000, counts(3));
    expect(history.rates()[0]?.applied).toBe(0);
  });
});
