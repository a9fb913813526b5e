import { CachedRead } from './cached-read';

describe('CachedRead', () => {
  it('reads once while the value is young enough, and again once it is older', async () => {
    let clock = 1000;
    let reads = 0;
    const cache = new CachedRead(
      () => Promise.resolve(++reads),
      () => clock,
    );
    expect(await cache.get(5000)).toEqual({ value: 1, readAt: 1000 });
    clock += 5000;
    expect((await cache.get(5000)).value).toBe(1);
    clock += 1;
    expect(await cache.get(5000)).toEqual({ value: 2, readAt: 6001 });
  });

  it('lets readers that ask during a read join it', async () => {
    let reads = 0;
    let finish: (value: number) => void = () => undefined;
    const cache = new CachedRead(() => {
      reads += 1;
      return new Promise<number>((resolve) => (finish = resolve));
    });
    const both = Promise.all([cache.get(0), cache.get(0)]);
    finish(7);
    expect((await both).map((c) => c.value)).toEqual([7, 7]);
    expect(reads).toBe(1);
  });

  it('keeps the last value with the error when a refresh fails, and rejects with none', async () => {
    let fail = true;
    const cache = new CachedRead(
      () => (fail ? Promise.reject(new Error('broker down')) : Promise.resolve('ok')),
      () => 42,
    );
    await expect(cache.get(0)).rejects.toThrow('broker down');
    fail = false;
    await cache.get(0);
    fail = true;
    expect(await cache.refresh()).toEqual({ value: 'ok', readAt: 42, error: 'broker down' });
    fail = false;
    expect(await cache.get(0)).toEqual({ value: 'ok', readAt: 42 });
  });
});
