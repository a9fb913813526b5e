import { classifyError } from '../common/errors/classify-error';
import { ShutdownError } from '../common/errors/shutdown.error';
import type { SyncError } from '../common/errors/sync.error';
import { backoffDelay } from '../domain/backoff';
import { mustRejoinGroup } from '../kafka/group-membership-error';

/** Kafka's default session timeout is 30 s; heartbeating every second keeps well inside it. */
const HEARTBEAT_EVERY_MS = 1000;

export interface RetryOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Keeps the consumer in its group while it waits (kafkajs throttles the actual requests). */
  readonly heartbeat: () => Promise<void>;
  readonly signal: AbortSignal;
  readonly onRetry: (error: SyncError, failures: number, delayMs: number) => void;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ShutdownError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ShutdownError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function waitHeartbeating(ms: number, options: RetryOptions): Promise<void> {
  if (options.signal.aborted) throw new ShutdownError();
  for (let left = ms; left > 0; left -= HEARTBEAT_EVERY_MS) {
    await pause(Math.min(left, HEARTBEAT_EVERY_MS), options.signal);
    await options.heartbeat();
  }
}

/**
 * The one place that reads `retriable`: a retriable failure is waited out with backoff for as
 * long as it lasts, never skipped; anything else goes to `onPermanent` (the dead-letter path).
 */
export async function retryUntilDone<T>(
  operation: () => Promise<T> | T,
  onPermanent: (error: SyncError) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await operation();
    } catch (err) {
      // A heartbeat inside the operation found the group rebalancing or this member evicted:
      // kafkajs must see its own error to rejoin, and the next owner of the partition takes the
      // work up.
      if (err instanceof ShutdownError || mustRejoinGroup(err)) throw err;
      const error = classifyError(err);
      if (!error.retriable) return onPermanent(error);
      const delayMs = backoffDelay(failures - 1, options.initialDelayMs, options.maxDelayMs);
      options.onRetry(error, failures, delayMs);
      await waitHeartbeating(delayMs, options);
    }
  }
}
