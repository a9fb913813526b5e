/** The outcomes the status page charts: the handler outcomes plus failed (retried) attempts. */
export const CHARTED_OUTCOMES = ['applied', 'duplicate', 'stale', 'invalid', 'failed'] as const;

export type ChartedOutcome = (typeof CHARTED_OUTCOMES)[number];

export type OutcomeCounts = Readonly<Record<ChartedOutcome, number>>;

/** Events per second by outcome between one sample and the one before it. */
export interface OutcomeRates extends OutcomeCounts {
  /** End of the interval, in ms since the epoch. */
  readonly at: number;
}

interface CounterSample {
  readonly at: number;
  readonly totals: OutcomeCounts;
}

/**
 * The last `capacity` intervals of the event counters, as rates: a bounded buffer of counter
 * samples (one more than intervals), the oldest dropped when a new one comes. Pure: the caller
 * takes the samples.
 */
export class OutcomeRateHistory {
  private readonly samples: CounterSample[] = [];

  constructor(private readonly capacity: number) {}

  record(at: number, totals: OutcomeCounts): void {
    this.samples.push({ at, totals });
    if (this.samples.length > this.capacity + 1) this.samples.shift();
  }

  /** Oldest first. A counter that went down (a registry reset) counts as 0 for that interval. */
  rates(): OutcomeRates[] {
    return this.samples.slice(1).map((sample, index) => {
      const before = this.samples[index] as CounterSample;
      const seconds = Math.max((sample.at - before.at) / 1000, 0.001);
      const rate = (outcome: ChartedOutcome) =>
        Math.max(0, sample.totals[outcome] - before.totals[outcome]) / seconds;
      return {
        at: sample.at,
        applied: rate('applied'),
        duplicate: rate('duplicate'),
        stale: rate('stale'),
        invalid: rate('invalid'),
        failed: rate('failed'),
      };
    });
  }
}
