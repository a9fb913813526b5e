import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { EntityKind } from '../domain/entity-kind';
import type { SyncOutcome } from '../domain/sync-outcome';

const SUMMARY_INTERVAL_MS = 30_000;

/**
 * One info line per interval with what was handled, instead of one per event or batch: at tens
 * of thousands of events a second, per-batch lines would drown everything else.
 */
@Injectable()
export class SyncSummaryService implements OnModuleDestroy {
  private readonly logger = new Logger('SyncSummary');
  private tally = new Map<string, number>();
  private readonly timer = setInterval(() => this.flush(), SUMMARY_INTERVAL_MS).unref();

  add(kind: EntityKind, outcome: SyncOutcome, count = 1): void {
    if (count === 0) return;
    const key = `${kind}.${outcome}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + count);
  }

  private flush(): void {
    if (this.tally.size === 0) return;
    const counts = Object.fromEntries([...this.tally].sort(([a], [b]) => a.localeCompare(b)));
    const total = [...this.tally.values()].reduce((sum, n) => sum + n, 0);
    this.tally = new Map();
    this.logger.log({
      msg: `handled ${total} events in the last ${SUMMARY_INTERVAL_MS / 1000} s`,
      counts,
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
