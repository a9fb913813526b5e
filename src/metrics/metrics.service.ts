import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ENTITY_KINDS, type EntityKind } from '../domain/entity-kind';
import type { SyncOutcome } from '../domain/sync-outcome';
import type { TopicPartitionLag } from './consumer-offsets.repository';
import type { DbPoolConnections } from './db-pool-connections';
import { CountedHistogram } from './counted-histogram';

export type CacheResult = 'hit' | 'miss' | 'error';

/** The metrics of contract section 6, with exactly its names and labels. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly events = new Counter({
    name: 'sync_events_total',
    help: 'Events handled, by entity and outcome; failed counts attempts that will be retried',
    labelNames: ['entity', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly cache = new Counter({
    name: 'sync_idempotency_cache_total',
    help: 'Redis idempotency lookups by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly duration = new CountedHistogram({
    name: 'sync_event_duration_seconds',
    help: 'Time from receiving an event to its final outcome',
    labelName: 'entity',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly deadLetters = new Counter({
    name: 'sync_dead_letters_total',
    help: 'Invalid events dead-lettered, by entity and error type',
    labelNames: ['entity', 'error_type'] as const,
    registers: [this.registry],
  });

  private readonly pruned = new Counter({
    name: 'sync_processed_events_pruned_total',
    help: 'processed_events rows deleted because they were older than the retention',
    registers: [this.registry],
  });

  private readonly redisCircuit = new Gauge({
    name: 'sync_redis_circuit_open',
    help: '1 while the circuit breaker skips Redis (open or half-open), 0 while closed',
    registers: [this.registry],
  });

  /** Where the pool gauge reads from at scrape time; set once the data source is open. */
  private readDbPool: () => DbPoolConnections | undefined = () => undefined;

  private readonly dbPool = new Gauge({
    name: 'sync_db_pool_connections',
    help: 'Connections of the MySQL pool: in_use, idle, and waiting (requests queued for one)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    // Read at scrape time, so the figures are exact rather than sampled.
    collect: () => {
      const pool = this.readDbPool();
      this.dbPool.reset();
      if (pool === undefined) return;
      this.dbPool.set({ state: 'in_use' }, pool.inUse);
      this.dbPool.set({ state: 'idle' }, pool.idle);
      this.dbPool.set({ state: 'waiting' }, pool.waiting);
    },
  });

  private readonly consumerLag = new Gauge({
    name: 'sync_consumer_lag',
    help: "Messages not yet committed by the consumer group: high watermark minus the group's committed offset",
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  private readonly schemaErrors = new Counter({
    name: 'sync_schema_errors_total',
    help: 'Attempts that failed because a table, column or privilege the service needs is missing, by entity',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });

  private readonly schemaErrorActive = new Gauge({
    name: 'sync_schema_error_active',
    help: '1 while the latest attempt for the entity failed on the schema, 0 once one succeeds',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });

  /** The latest schema error per entity, for /ready; gone once that entity applies again. */
  private readonly schemaErrorReasons = new Map<EntityKind, string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.redisCircuit.set(0);
    // Present from the start, so that dashboards and alerts see 0 rather than no series.
    for (const entity of ENTITY_KINDS) {
      this.schemaErrors.inc({ entity }, 0);
      this.schemaErrorActive.set({ entity }, 0);
    }
  }

  recordSchemaError(entity: EntityKind, reason: string): void {
    this.schemaErrors.inc({ entity });
    this.schemaErrorActive.set({ entity }, 1);
    this.schemaErrorReasons.set(entity, reason);
  }

  clearSchemaError(entity: EntityKind): void {
    if (!this.schemaErrorReasons.delete(entity)) return;
    this.schemaErrorActive.set({ entity }, 0);
  }

  /** Entities whose latest attempt failed on the schema, with the database's message. */
  activeSchemaErrors(): ReadonlyMap<EntityKind, string> {
    return this.schemaErrorReasons;
  }

  recordEvent(entity: EntityKind, outcome: SyncOutcome | 'failed', seconds?: number): void {
    this.events.inc({ entity, outcome });
    if (seconds !== undefined) this.duration.observe(entity, seconds);
  }

  /** `count` events of one entity and outcome that took `seconds` each (one chunk): one step. */
  recordEvents(entity: EntityKind, outcome: SyncOutcome, count: number, seconds: number): void {
    if (count === 0) return;
    this.events.labels(entity, outcome).inc(count);
    this.duration.observe(entity, seconds, count);
  }

  recordCache(result: CacheResult, count = 1): void {
    if (count > 0) this.cache.inc({ result }, count);
  }

  setRedisCircuitOpen(open: boolean): void {
    this.redisCircuit.set(open ? 1 : 0);
  }

  recordDeadLetter(entity: EntityKind, errorType: string): void {
    this.deadLetters.inc({ entity, error_type: errorType });
  }

  /** `read` is called on every scrape; undefined leaves the pool gauge empty. */
  watchDbPool(read: () => DbPoolConnections | undefined): void {
    this.readDbPool = read;
  }

  /** Replaces every lag series, so partitions no longer read drop out. */
  /** The messages waiting over every partition, as of the last lag refresh. */
  async consumerLagTotal(): Promise<number> {
    const { values } = await this.consumerLag.get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  setConsumerLag(lags: readonly TopicPartitionLag[]): void {
    this.consumerLag.reset();
    for (const { topic, partition, lag } of lags) {
      this.consumerLag.set({ topic, partition: String(partition) }, lag);
    }
  }

  recordPruned(count: number): void {
    if (count > 0) this.pruned.inc(count);
  }

  async prunedCount(): Promise<number> {
    return (await this.pruned.get()).values[0]?.value ?? 0;
  }

  /** Events handled so far per outcome, over every entity; the status page samples it. */
  async outcomeTotals(): Promise<Record<SyncOutcome | 'failed', number>> {
    const totals = { applied: 0, duplicate: 0, stale: 0, invalid: 0, failed: 0 };
    for (const { labels, value } of (await this.events.get()).values) {
      const outcome = labels.outcome as keyof typeof totals;
      if (outcome in totals) totals[outcome] += value;
    }
    return totals;
  }

  /** The MySQL pool as the pool gauge reads it; undefined before the data source is open. */
  dbPoolConnections(): DbPoolConnections | undefined {
    return this.readDbPool();
  }

  /** Reads one counter's current value; the demo's summary and the tests use it. */
  async eventCount(entity: EntityKind, outcome: SyncOutcome | 'failed'): Promise<number> {
    const { values } = await this.events.get();
    return (
      values.find((v) => v.labels.entity === entity && v.labels.outcome === outcome)?.value ?? 0
    );
  }

  async cacheCount(result: CacheResult): Promise<number> {
    const { values } = await this.cache.get();
    return values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  /** 1 while the Redis circuit is open, else 0. */
  async redisCircuitOpen(): Promise<number> {
    const { values } = await this.redisCircuit.get();
    return values[0]?.value ?? 0;
  }
}
