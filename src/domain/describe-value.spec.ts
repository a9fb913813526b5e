import { capText, describeValue } from './describe-value';

describe('describeValue', () => {
  it('writes small values as JSON', () => {
    expect(describeValue({ a: [1, 'x', null, true] })).toBe('{"a":[1,"x",null,true]}');
    expect(describeValue('evt 1/2')).toBe('"evt 1/2"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(Infinity)).toBe('Infinity');
    expect(describeValue(-0)).toBe('-0');
  });

  it('cuts at 80 characters with "..."', () => {
    const text = describeValue('x'.repeat(200));
    expect(text).toHaveLength(80);
    expect(text.endsWith('...')).toBe(true);
  });

  it('describes 100,000 nested arrays without recursion, in bounded time', () => {
    let value: unknown = [];
    for (let i = 0; i < 100_000; i++) value = [value];
    const started = performance.now();
    expect(describeValue(value)).toBe(`${'['.repeat(77)}...`);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('describes an object of 100,000 keys by its first keys only', () => {
    const object = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(describeValue(object)).toMatch(/^\{"k0":0,"k1":1,.*\.\.\.$/);
  });

  it('never cuts between the halves of a surrogate pair, and escapes lone ones', () => {
    for (let pad = 0; pad < 4; pad++) {
      const text = describeValue(`${'a'.repeat(pad)}${'😀'.repeat(60)}`);
      expect(text.isWellFormed()).toBe(true);
    }
    expect(describeValue('\ud800')).toBe('"\\ud800"');
  });
});

describe('capText', () => {
  it('keeps short text and makes lone surrogates well formed', () => {
    expect(capText('abc', 10)).toBe('abc');
    expect(capText('a\ud800', 10).isWellFormed()).toBe(true);
  });

  it('cuts long text to the limit, ellipsis included', () => {
    expect(capText('abcdefghij', 6)).toBe('abc...');
  });
});
