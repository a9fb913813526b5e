import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { MetricsService } from '../metrics/metrics.service';
import { ProcessedEventRepository } from '../persistence/processed-event.repository';
import { PeriodicTask } from '../common/periodic-task';

/** Rows deleted per statement: small enough that each DELETE holds its locks only briefly. */
export const PRUNE_BATCH_SIZE = 1000;
const HOUR_MS = 3_600_000;

/**
 * Deletes `processed_events` rows older than PROCESSED_EVENTS_RETENTION_HOURS every
 * PRUNE_INTERVAL_MS (contract section 3: they "may be pruned").
 *
 * Pruning is safe: once an event's row is gone, a replay of that old event is no longer caught
 * as a duplicate by `processed_events`, but the version rule still catches it — the entity
 * row's `source_version`, or its tombstone in `sync_entity_versions` (never pruned), is at least
 * the replayed event's version, so it is recorded as stale, changing no entity row.
 *
 * Several instances may prune at once; that is harmless (each DELETE removes what is left).
 * Within one instance, a run never starts while the previous one is still going.
 */
@Injectable()
export class ProcessedEventsPrunerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProcessedEventsPrunerService.name);
  private readonly schedule: PeriodicTask<number>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly processedEvents: ProcessedEventRepository,
    private readonly metrics: MetricsService,
  ) {
    this.schedule = new PeriodicTask(() => this.prune(), config.housekeeping.pruneIntervalMs);
  }

  onApplicationBootstrap(): void {
    this.schedule.start({ runNow: false });
  }

  async onModuleDestroy(): Promise<void> {
    // Let a run in flight finish its current statement before the pool closes.
    await this.schedule.stop({ awaitRun: true });
  }

  /**
   * One pruning run; resolves with the number of rows deleted. Never rejects: errors are logged
   * and the next tick tries again. A call while a run is in flight joins that run.
   */
  pruneOnce(): Promise<number> {
    return this.schedule.runOnce();
  }

  private async prune(): Promise<number> {
    const { processedEventsRetentionHours } = this.config.housekeeping;
    const olderThan = new Date(Date.now() - processedEventsRetentionHours * HOUR_MS);
    let deleted = 0;
    try {
      deleted = await this.processedEvents.prune(
        this.dataSource.manager,
        olderThan,
        PRUNE_BATCH_SIZE,
        (count) => {
          this.metrics.recordPruned(count);
          if (this.schedule.stopped) throw new PruneStopped();
        },
      );
      if (deleted > 0) {
        this.logger.log(
          `pruned ${deleted} processed_events row(s) older than ${olderThan.toISOString()}`,
        );
      }
    } catch (err) {
      if (!(err instanceof PruneStopped)) {
        this.logger.error(
          `pruning processed_events failed (retried in ${this.config.housekeeping.pruneIntervalMs} ms): ${
            err instanceof Error ? err.message : String(err)
          }`,
        );
      }
    }
    return deleted;
  }
}

/** Thrown between batches to end a run early when the service stops. */
class PruneStopped extends Error {}
