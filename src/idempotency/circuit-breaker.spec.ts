import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitStateChange,
} from './circuit-breaker';

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  let time = 1_000_000;
  const changes: CircuitStateChange[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 5000,
    now: () => time,
    onStateChange: (change) => changes.push(change),
    ...options,
  });
  const advance = (ms: number) => {
    time += ms;
  };
  const transitions = () => changes.map(({ from, to }) => `${from}->${to}`);
  return { breaker, advance, changes, transitions };
}

const ok = () => Promise.resolve('ok');
const down = () => Promise.reject(new Error('ECONNREFUSED'));

/** Fails `times` calls through the breaker, swallowing the errors. */
async function fail(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(down).catch(() => undefined);
}

describe('CircuitBreaker', () => {
  it('starts closed and lets every call through', async () => {
    const { breaker, changes } = setup();
    const call = jest.fn(ok);
    for (let i = 0; i < 10; i++) await expect(breaker.execute(call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(10);
    expect(breaker.state).toBe('closed');
    expect(breaker.remainingMs()).toBe(0);
    expect(changes).toEqual([]);
  });

  it('passes the failure through while closed', async () => {
    const { breaker } = setup();
    await expect(breaker.execute(down)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('closed');
  });

  it('opens after N consecutive failures, reporting the change once with the last error', async () => {
    const { breaker, changes } = setup();
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    const last = new Error('third');
    await expect(breaker.execute(() => Promise.reject(last))).rejects.toBe(last);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([{ from: 'closed', to: 'open', failures: 3, error: last }]);
  });

  it('counts only consecutive failures: a success resets the count', async () => {
    const { breaker } = setup();
    await fail(breaker, 2);
    await breaker.execute(ok);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('fails fast without calling while open, for the whole cool-down', async () => {
    const { breaker, advance, changes } = setup();
    await fail(breaker, 3);
    const call = jest.fn(ok);

    await expect(breaker.execute(call)).rejects.toThrow(CircuitOpenError);
    advance(4999);
    const error = await breaker.execute(call).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).remainingMs).toBe(1);
    expect((error as CircuitOpenError).message).toBe('circuit open, next trial in 1 ms');
    expect(call).not.toHaveBeenCalled();
    expect(changes).toHaveLength(1);
  });

  it('lets one trial through after the cool-down and closes on its success', async () => {
    const { breaker, advance, changes, transitions } = setup();
    await fail(breaker, 3);
    advance(5000);
    expect(breaker.remainingMs()).toBe(0);

    let finish!: (value: string) => void;
    const trial = jest.fn(() => new Promise<string>((resolve) => (finish = resolve)));
    const pending = breaker.execute(trial);
    expect(breaker.state).toBe('half-open');
    // Only one trial at a time: others still fail fast while it is in flight.
    const other = jest.fn(ok);
    await expect(breaker.execute(other)).rejects.toThrow(CircuitOpenError);
    expect(other).not.toHaveBeenCalled();

    finish('back');
    await expect(pending).resolves.toBe('back');
    expect(trial).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('closed');
    expect(transitions()).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    expect(changes[2]).toEqual({ from: 'half-open', to: 'closed', failures: 0 });

    // Closed again: a fresh run of failures is needed to open it.
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('re-opens for a full cool-down when the trial fails', async () => {
    const { breaker, advance, transitions } = setup();
    await fail(breaker, 3);
    advance(6000);
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.remainingMs()).toBe(5000);

    const call = jest.fn(ok);
    advance(4999);
    await expect(breaker.execute(call)).rejects.toThrow(CircuitOpenError);
    advance(1);
    await expect(breaker.execute(call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(1);
    expect(transitions()).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
  });

  it('takes a trial that never reports back as lost after another cool-down', async () => {
    const { breaker, advance } = setup();
    await fail(breaker, 3);
    advance(5000);
    void breaker.execute(() => new Promise<string>(() => undefined));
    expect(breaker.state).toBe('half-open');
    advance(4999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('ignores late results of calls started before it opened', async () => {
    const { breaker, changes } = setup({ failureThreshold: 1 });
    let finish!: (value: string) => void;
    const slow = breaker.execute(() => new Promise<string>((resolve) => (finish = resolve)));
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    finish('late');
    await expect(slow).resolves.toBe('late');
    breaker.recordFailure(new Error('late failure'));
    expect(breaker.state).toBe('open');
    expect(breaker.remainingMs()).toBe(5000);
    expect(changes).toHaveLength(1);
  });

  it('opens on the first failure with a threshold of 1 and retries at once with no cool-down', async () => {
    const { breaker } = setup({ failureThreshold: 1, cooldownMs: 0 });
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('refuses nonsensical settings', () => {
    expect(() => setup({ failureThreshold: 0 })).toThrow(RangeError);
    expect(() => setup({ failureThreshold: 1.5 })).toThrow(RangeError);
    expect(() => setup({ cooldownMs: -1 })).toThrow(RangeError);
  });

  it('uses Date.now when no clock is given', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000 });
    await fail(breaker, 1);
    expect(breaker.remainingMs()).toBeGreaterThan(59_000);
    expect(breaker.remainingMs()).toBeLessThanOrEqual(60_000);
  });
});
