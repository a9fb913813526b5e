import { backoffDelay } from './backoff';

const always = (value: number) => () => value;
/** The largest value Math.random can return. */
const ALMOST_ONE = 1 - Number.EPSILON;

describe('backoffDelay', () => {
  it('waits 0 ms when random() is 0, whatever the failure count', () => {
    for (const failures of [0, 1, 5, 30, 1000]) {
      expect(backoffDelay(failures, 100, 30_000, always(0))).toBe(0);
    }
  });

  it('waits just under the ceiling when random() is as close to 1 as it gets', () => {
    expect(backoffDelay(0, 100, 30_000, always(ALMOST_ONE))).toBe(99);
    expect(backoffDelay(3, 100, 30_000, always(ALMOST_ONE))).toBe(799);
    expect(backoffDelay(20, 100, 30_000, always(ALMOST_ONE))).toBe(29_999);
  });

  it('scales the wait with random() between 0 and the ceiling', () => {
    expect(backoffDelay(2, 100, 30_000, always(0.5))).toBe(200);
    expect(backoffDelay(2, 100, 30_000, always(0.25))).toBe(100);
  });

  it('doubles the ceiling with each failure and caps it at the maximum', () => {
    const ceilings = Array.from({ length: 12 }, (_, failures) =>
      backoffDelay(failures, 100, 30_000, always(1)),
    );
    expect(ceilings).toEqual([
      100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000,
    ]);
  });

  it('never exceeds the cap even when the initial delay is above it', () => {
    expect(backoffDelay(0, 5000, 1000, always(1))).toBe(1000);
  });

  it('stays finite and at most the cap for huge failure counts', () => {
    for (const failures of [31, 1024, 1_000_000, Number.MAX_SAFE_INTEGER, Infinity]) {
      const ceiling = backoffDelay(failures, 100, 30_000, always(1));
      expect(ceiling).toBe(30_000);
      expect(Number.isFinite(backoffDelay(failures, 100, 30_000, always(0.5)))).toBe(true);
    }
  });

  it('stays a safe integer with a huge cap and a huge failure count', () => {
    const ceiling = backoffDelay(10_000, 1, Number.MAX_SAFE_INTEGER, always(1));
    expect(Number.isSafeInteger(ceiling)).toBe(true);
    expect(ceiling).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(ceiling).toBeGreaterThanOrEqual(2 ** 30);
  });

  it('returns whole milliseconds in [0, ceiling) for Math.random', () => {
    for (let failures = 0; failures < 200; failures++) {
      const delay = backoffDelay(failures, 100, 30_000);
      const ceiling = Math.min(30_000, 100 * 2 ** Math.min(failures, 30));
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
  });
});
