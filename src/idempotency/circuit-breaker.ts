export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitStateChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Consecutive failures counted when the change happened (0 once closed). */
  readonly failures: number;
  /** The failure that caused the change, when one did. */
  readonly error?: unknown;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit: at least 1. */
  readonly failureThreshold: number;
  /** How long an open circuit refuses calls before it lets one trial through. */
  readonly cooldownMs: number;
  /** The clock, in ms; injectable so that tests need no sleeps. */
  readonly now?: () => number;
  /** Called once per change of state, synchronously. */
  readonly onStateChange?: (change: CircuitStateChange) => void;
}

/** Thrown by `execute` instead of calling the dependency while the circuit is open. */
export class CircuitOpenError extends Error {
  constructor(readonly remainingMs: number) {
    super(`circuit open, next trial in ${remainingMs} ms`);
    this.name = 'CircuitOpenError';
  }
}

/**
 * A consecutive-failure circuit breaker. Closed: every call goes through, and
 * `failureThreshold` failures in a row open it. Open: calls are refused at once for
 * `cooldownMs`. Then one trial call is let through (half-open): its success closes the circuit,
 * its failure opens it for another cool-down. A trial that never reports back is taken as lost
 * after another cool-down, and a new trial is let through.
 *
 * Results of calls that started before the circuit opened are ignored while it is open: only a
 * trial decides when it closes. Pure: no timers, no I/O.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  /** When the circuit last opened, or when the current trial started (half-open). */
  private since = 0;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be a whole number ≥ 1`);
    }
    if (!Number.isFinite(options.cooldownMs) || options.cooldownMs < 0) {
      throw new RangeError(`cooldownMs must be ≥ 0`);
    }
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Ms until the next call may go through; 0 when one may go through now. */
  remainingMs(): number {
    if (this.current === 'closed') return 0;
    return Math.max(0, this.since + this.options.cooldownMs - this.now());
  }

  /**
   * Whether a call may go through now. Past the cool-down this starts a trial (half-open), so a
   * caller that gets `true` must report the call's result with `recordSuccess`/`recordFailure`.
   */
  tryAcquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.remainingMs() > 0) return false;
    this.since = this.now();
    if (this.current === 'open') this.transition('half-open');
    return true;
  }

  recordSuccess(): void {
    if (this.current === 'open') return;
    this.failures = 0;
    if (this.current === 'half-open') this.transition('closed');
  }

  recordFailure(error?: unknown): void {
    if (this.current === 'open') return;
    this.failures += 1;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.since = this.now();
      this.transition('open', error);
    }
  }

  /** Runs `call` if the circuit lets it through, recording its result; else CircuitOpenError. */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    if (!this.tryAcquire()) throw new CircuitOpenError(this.remainingMs());
    let result: T;
    try {
      result = await call();
    } catch (err) {
      this.recordFailure(err);
      throw err;
    }
    this.recordSuccess();
    return result;
  }

  private transition(to: CircuitState, error?: unknown): void {
    const from = this.current;
    this.current = to;
    this.options.onStateChange?.({
      from,
      to,
      failures: this.failures,
      ...(error === undefined ? {} : { error }),
    });
  }
}
