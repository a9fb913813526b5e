import { computeLag } from './consumer-lag';

describe('computeLag', () => {
  it('is the high watermark minus the committed offset, per partition, sorted', () => {
    expect(
      computeLag(
        [
          { partition: 1, high: '10', low: '0' },
          { partition: 0, high: '7', low: '0' },
        ],
        [
          { partition: 0, offset: '7' },
          { partition: 1, offset: '4' },
        ],
      ),
    ).toEqual([
      { partition: 0, lag: 0 },
      { partition: 1, lag: 6 },
    ]);
  });

  it('counts an uncommitted partition (-1) from its low watermark, not from 0', () => {
    expect(
      computeLag([{ partition: 0, high: '120', low: '100' }], [{ partition: 0, offset: '-1' }]),
    ).toEqual([{ partition: 0, lag: 20 }]);
  });

  it('counts a partition missing from the committed offsets like an uncommitted one', () => {
    expect(computeLag([{ partition: 2, high: '5', low: '1' }], [])).toEqual([
      { partition: 2, lag: 4 },
    ]);
  });

  it('counts only what is still kept when the committed offset fell below the low watermark', () => {
    expect(
      computeLag([{ partition: 0, high: '50', low: '40' }], [{ partition: 0, offset: '12' }]),
    ).toEqual([{ partition: 0, lag: 10 }]);
  });

  it('is never negative, e.g. when the watermarks were read before the commit', () => {
    expect(
      computeLag([{ partition: 0, high: '5', low: '0' }], [{ partition: 0, offset: '9' }]),
    ).toEqual([{ partition: 0, lag: 0 }]);
  });

  it('handles offsets beyond 2^53 exactly', () => {
    expect(
      computeLag(
        [{ partition: 0, high: '9007199254740999', low: '0' }],
        [{ partition: 0, offset: '9007199254740993' }],
      ),
    ).toEqual([{ partition: 0, lag: 6 }]);
  });

  it('treats an empty topic as no lag', () => {
    expect(computeLag([{ partition: 0, high: '0', low: '0' }], [])).toEqual([
      { partition: 0, lag: 0 },
    ]);
  });
});
