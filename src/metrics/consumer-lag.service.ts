import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { kafkaClientConfig } from '../kafka/kafka-client-config';
import {
  type ConsumerGroupDescription,
  ConsumerOffsetsRepository,
  type TopicPartitionOffsets,
} from './consumer-offsets.repository';
import { MetricsService } from './metrics.service';
import { CachedRead, type CachedValue } from '../common/cached-read';
import { PeriodicTask } from '../common/periodic-task';

/**
 * Refreshes sync_consumer_lag every METRICS_LAG_INTERVAL_MS from the broker: one admin
 * connection kept open, one ListOffsets per topic and one OffsetFetch for the group per
 * refresh. The status page reads the same offsets (and the group's description) through
 * `offsets`/`group`, which reuse a reading younger than the age asked for. A refresh that fails leaves the gauge as it was and is logged at debug only: the
 * consumer's own health is what readiness and alerts watch, lag is a figure for dashboards.
 */
@Injectable()
export class ConsumerLagService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConsumerLagService.name);
  private readonly admin: Admin;
  private readonly repository: ConsumerOffsetsRepository;
  private connected: Promise<void> | undefined;
  private readonly schedule: PeriodicTask<void>;
  private readonly offsetsRead: CachedRead<TopicPartitionOffsets[]>;
  private readonly groupRead: CachedRead<ConsumerGroupDescription>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    const kafka = new Kafka({
      ...kafkaClientConfig(config.kafka),
      // A failed refresh simply waits for the next tick: no long retry chains, no log spam
      // (the consumer logs broker trouble already; this reports at debug below).
      retry: { initialRetryTime: 300, retries: 1 },
      logLevel: logLevel.NOTHING,
    });
    this.admin = kafka.admin();
    this.repository = new ConsumerOffsetsRepository(this.admin);
    this.schedule = new PeriodicTask(() => this.readLag(), config.metrics.lagIntervalMs);
    this.offsetsRead = new CachedRead(() => this.readOffsets());
    this.groupRead = new CachedRead(() =>
      this.withAdmin(() => this.repository.describeGroup(config.kafka.groupId)),
    );
  }

  /** The group's offsets on every source partition, read at most `maxAgeMs` ago. */
  offsets(maxAgeMs: number): Promise<CachedValue<TopicPartitionOffsets[]>> {
    return this.offsetsRead.get(maxAgeMs);
  }

  /** The group's members and their partitions, read at most `maxAgeMs` ago. */
  group(maxAgeMs: number): Promise<CachedValue<ConsumerGroupDescription>> {
    return this.groupRead.get(maxAgeMs);
  }

  onApplicationBootstrap(): void {
    this.schedule.start({ runNow: true });
  }

  async onModuleDestroy(): Promise<void> {
    await this.schedule.stop({ awaitRun: false });
    // A connect in flight would otherwise open sockets after the disconnect. A refresh in flight
    // is not awaited: disconnecting ends it, and shutdown must not wait on the broker.
    await this.connected?.catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  /** One refresh; never rejects (the schedule joins a tick to a run in flight). */
  private async readLag(): Promise<void> {
    if (this.schedule.stopped) return;
    const { error } = await this.offsetsRead.refresh().catch((err: unknown) => ({
      error: err instanceof Error ? err.message : String(err),
    }));
    if (error !== undefined) {
      this.logger.debug(`consumer lag not refreshed (kept as it was): ${error}`);
    }
  }

  private readOffsets(): Promise<TopicPartitionOffsets[]> {
    const { groupId, topics } = this.config.kafka;
    return this.withAdmin(async () => {
      const offsets = await this.repository.offsets(groupId, Object.values(topics));
      if (!this.schedule.stopped) this.metrics.setConsumerLag(offsets);
      return offsets;
    });
  }

  /** Runs `read` on the connected admin client; none once shutdown began. */
  private async withAdmin<T>(read: () => Promise<T>): Promise<T> {
    if (this.schedule.stopped) throw new Error('shutting down');
    try {
      this.connected ??= this.admin.connect();
      await this.connected;
      return await read();
    } catch (err) {
      // Reconnect on the next read if the connection itself failed.
      this.connected = undefined;
      throw err;
    }
  }
}
