import type { Metric, Registry } from 'prom-client';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket, not yet cumulative; the last counts those above every bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** One line of the scrape, as prom-client's registry reads it from a metric's `get()`. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export interface CountedHistogramConfiguration {
  readonly name: string;
  readonly help: string;
  readonly labelName: string;
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

/**
 * A Prometheus histogram with one label that takes `count` observations of one value in one
 * step: a chunk of events that took the same time is one call, where prom-client's Histogram
 * needs one `observe` per event (half a microsecond of batch mode's CPU per event). Scraped as
 * the same text as prom-client's Histogram (the spec compares them).
 */
export class CountedHistogram {
  readonly name: string;
  readonly help: string;
  private readonly labelName: string;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(configuration: CountedHistogramConfiguration) {
    this.name = configuration.name;
    this.help = configuration.help;
    this.labelName = configuration.labelName;
    this.bounds = [...configuration.buckets].sort((a, b) => a - b);
    // The registry needs only name, help, get() and reset(); its type names its own classes.
    for (const registry of configuration.registers) {
      registry.registerMetric(this as unknown as Metric);
    }
  }

  observe(labelValue: string, value: number, count = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let series = this.series.get(labelValue);
    if (series === undefined) {
      series = {
        labels: { [this.labelName]: labelValue },
        buckets: new Array<number>(this.bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(labelValue, series);
    }
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    const index = bucket === -1 ? this.bounds.length : bucket;
    series.buckets[index] = (series.buckets[index] ?? 0) + count;
    series.sum += value * count;
    series.count += count;
  }

  reset(): void {
    this.series.clear();
  }

  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Sample[];
  }> {
    const values: Sample[] = [];
    for (const { labels, buckets, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += buckets[i] ?? 0;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le, ...labels },
          value: cumulative,
        });
      });
      values.push(
        { metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count },
        { metricName: `${this.name}_sum`, labels, value: sum },
        { metricName: `${this.name}_count`, labels, value: count },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      aggregator: 'sum',
      values,
    });
  }
}
