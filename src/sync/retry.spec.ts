import { InvalidEventError } from '../common/errors/invalid-event.error';
import { ShutdownError } from '../common/errors/shutdown.error';
import type { SyncError } from '../common/errors/sync.error';
import { TransientError } from '../common/errors/transient.error';
import { UnexpectedError } from '../common/errors/unexpected.error';
import { retryUntilDone, type RetryOptions } from './retry';

function setup(
  delays: { initialDelayMs: number; maxDelayMs: number } = { initialDelayMs: 1, maxDelayMs: 5 },
) {
  const controller = new AbortController();
  const heartbeat = jest.fn(() => Promise.resolve());
  const onRetry = jest.fn<void, [SyncError, number, number]>();
  const onPermanent = jest.fn((_error: SyncError) => Promise.resolve('dead-lettered'));
  const options: RetryOptions = { ...delays, heartbeat, signal: controller.signal, onRetry };
  return { controller, heartbeat, onRetry, onPermanent, options };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('retryUntilDone', () => {
  it('returns the value of an operation that succeeds at once', async () => {
    const { options, onRetry, onPermanent, heartbeat } = setup();
    const operation = jest.fn(() => Promise.resolve('applied'));

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(operation).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(onPermanent).not.toHaveBeenCalled();
    expect(heartbeat).not.toHaveBeenCalled();
  });

  it('retries a TransientError until success, calling onRetry with failures 1, 2, … and capped delays', async () => {
    const { options, onRetry, onPermanent } = setup();
    const operation = jest.fn<Promise<string>, []>();
    for (let i = 0; i < 6; i++)
      operation.mockRejectedValueOnce(new TransientError('mysql', 'down'));
    operation.mockResolvedValue('applied');

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(operation).toHaveBeenCalledTimes(7);
    expect(onPermanent).not.toHaveBeenCalled();
    expect(onRetry.mock.calls.map(([, failures]) => failures)).toEqual([1, 2, 3, 4, 5, 6]);
    const ceilings = [1, 2, 4, 5, 5, 5];
    onRetry.mock.calls.forEach(([error, failures, delayMs]) => {
      expect(error).toBeInstanceOf(TransientError);
      expect(Number.isInteger(delayMs)).toBe(true);
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThanOrEqual(ceilings[failures - 1] ?? Number.NaN);
    });
  });

  it('classifies a raw driver deadlock as a TransientError and retries it', async () => {
    const { options, onRetry, onPermanent } = setup();
    const deadlock = Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' });
    const operation = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(deadlock)
      .mockResolvedValue('applied');

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(onRetry).toHaveBeenCalledTimes(1);
    expect(onRetry.mock.calls[0]?.[0]).toBeInstanceOf(TransientError);
    expect(onRetry.mock.calls[0]?.[0].cause).toBe(deadlock);
  });

  it('sends a non-retriable InvalidEventError to onPermanent without retrying', async () => {
    const { options, onRetry, onPermanent, heartbeat } = setup();
    const invalid = new InvalidEventError('schema_violation', 'data.id: is required');
    const operation = jest.fn<Promise<string>, []>().mockRejectedValue(invalid);

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('dead-lettered');
    expect(operation).toHaveBeenCalledTimes(1);
    expect(onPermanent).toHaveBeenCalledTimes(1);
    expect(onPermanent).toHaveBeenCalledWith(invalid);
    expect(onRetry).not.toHaveBeenCalled();
    expect(heartbeat).not.toHaveBeenCalled();
  });

  it('passes on a failure of onPermanent itself', async () => {
    const { options } = setup();
    const operation = jest
      .fn<Promise<string>, []>()
      .mockRejectedValue(new InvalidEventError('invalid_json', 'not JSON'));
    const onPermanent = jest.fn((_error: SyncError) =>
      Promise.reject<string>(new Error('dead-letter topic unreachable')),
    );

    await expect(retryUntilDone(operation, onPermanent, options)).rejects.toThrow(
      'dead-letter topic unreachable',
    );
  });

  it('retries an unknown error as an UnexpectedError', async () => {
    const { options, onRetry, onPermanent } = setup();
    const bug = new TypeError('x is undefined');
    const operation = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(bug)
      .mockResolvedValue('applied');

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(operation).toHaveBeenCalledTimes(2);
    expect(onPermanent).not.toHaveBeenCalled();
    const error = onRetry.mock.calls[0]?.[0];
    expect(error).toBeInstanceOf(UnexpectedError);
    expect(error?.message).toBe('x is undefined');
  });

  it('rethrows a ShutdownError from the operation without retrying', async () => {
    const { options, onRetry, onPermanent } = setup();
    const operation = jest.fn<Promise<string>, []>().mockRejectedValue(new ShutdownError());

    await expect(retryUntilDone(operation, onPermanent, options)).rejects.toBeInstanceOf(
      ShutdownError,
    );
    expect(operation).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(onPermanent).not.toHaveBeenCalled();
  });

  it.each(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID'])(
    'hands a %s from a heartbeat on to kafkajs without retrying, so that it rejoins',
    async (type) => {
      const { options, onRetry, onPermanent } = setup();
      const groupError = Object.assign(new Error(`heartbeat refused: ${type}`), { type });
      const operation = jest.fn<Promise<string>, []>().mockRejectedValue(groupError);

      await expect(retryUntilDone(operation, onPermanent, options)).rejects.toBe(groupError);
      expect(operation).toHaveBeenCalledTimes(1);
      expect(onRetry).not.toHaveBeenCalled();
      expect(onPermanent).not.toHaveBeenCalled();
    },
  );

  it('rejects with ShutdownError as soon as the signal is aborted during a ~1 s backoff wait', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.99);
    const { controller, options, onRetry, onPermanent, heartbeat } = setup({
      initialDelayMs: 1000,
      maxDelayMs: 1000,
    });
    // Abort once the wait has started: onRetry runs just before it, setImmediate just after.
    onRetry.mockImplementation(() => {
      setImmediate(() => controller.abort());
    });
    const operation = jest
      .fn<Promise<string>, []>()
      .mockRejectedValue(new TransientError('mysql', 'down'));

    const started = performance.now();
    await expect(retryUntilDone(operation, onPermanent, options)).rejects.toBeInstanceOf(
      ShutdownError,
    );
    const elapsed = performance.now() - started;

    expect(onRetry.mock.calls[0]?.[2]).toBe(990);
    expect(elapsed).toBeLessThan(500);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(heartbeat).not.toHaveBeenCalled();
    expect(onPermanent).not.toHaveBeenCalled();
  });

  it('rejects with ShutdownError when the signal is already aborted before a wait', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const { controller, options, onPermanent } = setup({ initialDelayMs: 10, maxDelayMs: 10 });
    controller.abort();
    const operation = jest
      .fn<Promise<string>, []>()
      .mockRejectedValue(new TransientError('redis', 'down'));

    await expect(retryUntilDone(operation, onPermanent, options)).rejects.toBeInstanceOf(
      ShutdownError,
    );
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('heartbeats after a short wait, before the next attempt', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.99);
    const { options, heartbeat, onPermanent } = setup({ initialDelayMs: 5, maxDelayMs: 5 });
    const heartbeatsAtAttempt: number[] = [];
    const operation = jest.fn(() => {
      heartbeatsAtAttempt.push(heartbeat.mock.calls.length);
      return heartbeatsAtAttempt.length === 1
        ? Promise.reject(new TransientError('mysql', 'down'))
        : Promise.resolve('applied');
    });

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(heartbeatsAtAttempt).toEqual([0, 1]);
  });

  it('heartbeats during a ~1.2 s wait, not only at its end', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.6);
    const { options, heartbeat, onRetry, onPermanent } = setup({
      initialDelayMs: 2000,
      maxDelayMs: 2000,
    });
    const heartbeatTimes: number[] = [];
    heartbeat.mockImplementation(() => {
      heartbeatTimes.push(performance.now());
      return Promise.resolve();
    });
    const attemptTimes: number[] = [];
    const operation = jest.fn(() => {
      attemptTimes.push(performance.now());
      return attemptTimes.length === 1
        ? Promise.reject(new TransientError('mysql', 'down'))
        : Promise.resolve('applied');
    });

    await expect(retryUntilDone(operation, onPermanent, options)).resolves.toBe('applied');
    expect(onRetry.mock.calls[0]?.[2]).toBe(1200);
    const [firstAttempt, secondAttempt] = attemptTimes;
    const [firstHeartbeat] = heartbeatTimes;
    if (firstAttempt === undefined || secondAttempt === undefined || firstHeartbeat === undefined) {
      throw new Error(
        `expected two attempts and a heartbeat, got ${attemptTimes.length} and ${heartbeatTimes.length}`,
      );
    }
    expect(secondAttempt - firstAttempt).toBeGreaterThanOrEqual(1150);
    // The first heartbeat comes well inside the wait, so a long wait cannot starve the session.
    expect(firstHeartbeat - firstAttempt).toBeLessThan(1100);
    expect(secondAttempt - firstHeartbeat).toBeGreaterThanOrEqual(150);
  });
});
