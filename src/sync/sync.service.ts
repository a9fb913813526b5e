import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { UnexpectedError } from '../common/errors/unexpected.error';
import { DataRejectedError } from '../common/errors/data-rejected.error';
import { InvalidEventError } from '../common/errors/invalid-event.error';
import { SchemaError } from '../common/errors/schema.error';
import type { SyncError } from '../common/errors/sync.error';
import {
  type CacheEntry,
  ProcessedEventCacheRepository,
} from '../idempotency/processed-event-cache.repository';
import { MetricsService } from '../metrics/metrics.service';
import { type DeadLetterEntry, DeadLetterService } from './dead-letter.service';
import type { EntityKind } from '../domain/entity-kind';
import { capText } from '../domain/describe-value';
import { MAX_ERROR_MESSAGE_LENGTH, validateEvent } from '../domain/event-validation';
import { SYNC_OUTCOMES, type SyncOutcome } from '../domain/sync-outcome';
import type { BatchControl, IncomingMessage, SyncEvent } from '../domain/sync-event';
import { retryUntilDone, type RetryOptions } from './retry';
import { SyncSummaryService } from './sync-summary.service';
import { SyncUnitOfWork, type UnitOfWorkResult } from './sync-unit-of-work';

export type Heartbeat = () => Promise<void>;

@Injectable()
export class SyncService implements OnModuleDestroy {
  private readonly logger = new Logger(SyncService.name);
  private readonly stopping = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly unitOfWork: SyncUnitOfWork,
    private readonly cache: ProcessedEventCacheRepository,
    private readonly deadLetters: DeadLetterService,
    private readonly metrics: MetricsService,
    private readonly summary: SyncSummaryService,
  ) {}

  /**
   * Handles one Kafka message and resolves only once it is applied, found duplicate or stale, or
   * dead-lettered: only then may its offset be committed. Rejects only when the service stops or
   * the consumer loses the partition, leaving the offset where it was.
   */
  async handleMessage(
    kind: EntityKind,
    message: IncomingMessage,
    heartbeat: Heartbeat,
  ): Promise<SyncOutcome> {
    const [outcome] = await this.handleChunk(kind, [message], heartbeat);
    return outcome ?? 'duplicate';
  }

  /**
   * Handles one fetched partition batch in transactions of at most SYNC_BATCH_MAX_EVENTS events,
   * resolving each part's offsets once it is done, with the same guarantees as handleMessage.
   * Stops between parts when the consumer stops or loses the partition.
   */
  async handleBatch(
    kind: EntityKind,
    messages: readonly IncomingMessage[],
    control: BatchControl,
  ): Promise<void> {
    const size = this.config.sync.batchMaxEvents;
    for (let start = 0; start < messages.length && control.shouldContinue(); start += size) {
      const chunk = messages.slice(start, start + size);
      await this.handleChunk(kind, chunk, control.heartbeat);
      const last = chunk[chunk.length - 1];
      if (last !== undefined) control.resolveOffset(last.offset);
      await control.heartbeat();
    }
  }

  /**
   * Validates the messages, dead-letters the invalid ones, and applies the valid ones together;
   * returns each message's outcome in order. One message or a whole batch take the same path.
   * Validation runs once, outside any retry: it is deterministic, so a message it cannot handle
   * is invalid, never retried. Only the dead-letter publish and the apply are retried.
   */
  private async handleChunk(
    kind: EntityKind,
    messages: readonly IncomingMessage[],
    heartbeat: Heartbeat,
  ): Promise<SyncOutcome[]> {
    const started = performance.now();
    const retry = this.retryOptions(kind, heartbeat);
    const parsed = messages.map((message) => validateEvent(kind, message));
    const invalid: DeadLetterEntry[] = [];
    const valid: SyncEvent[] = [];
    parsed.forEach((entry, i) => {
      if (entry instanceof InvalidEventError) {
        invalid.push({ message: messages[i] as IncomingMessage, error: entry });
      } else {
        valid.push(entry);
      }
    });
    await this.deadLetterAll(kind, invalid, heartbeat, retry);

    const { byId, rejected } =
      valid.length === 0
        ? {
            byId: new Map<string, SyncOutcome>(),
            rejected: new Map<SyncEvent, DataRejectedError>(),
          }
        : await this.syncIsolating(kind, valid, retry);
    await this.deadLetterAll(
      kind,
      [...rejected].map(([event, error]) => ({
        message: messages[parsed.indexOf(event)] as IncomingMessage,
        error: new InvalidEventError(
          'rejected_by_database',
          capText(`rejected by the database: ${error.message}`, MAX_ERROR_MESSAGE_LENGTH),
          event.eventId,
        ),
      })),
      heartbeat,
      retry,
    );

    // A second copy of an event in the same chunk is a duplicate of the first.
    const seen = new Set<string>();
    const outcomes = parsed.map((entry): SyncOutcome => {
      if (entry instanceof InvalidEventError || rejected.has(entry)) return 'invalid';
      if (seen.has(entry.eventId)) return 'duplicate';
      seen.add(entry.eventId);
      return byId.get(entry.eventId) ?? 'duplicate';
    });
    this.record(kind, messages, parsed, outcomes, (performance.now() - started) / 1000);
    return outcomes;
  }

  /** One dead-letter write and publish for a set of messages; a failing publish is retried. */
  private async deadLetterAll(
    kind: EntityKind,
    entries: readonly DeadLetterEntry[],
    heartbeat: Heartbeat,
    retry: RetryOptions,
  ): Promise<void> {
    if (entries.length === 0) return;
    await retryUntilDone(
      () => this.deadLetters.deadLetterAll(kind, entries, heartbeat),
      (error) => Promise.reject(error),
      retry,
    );
  }

  /**
   * syncEvents, retried while the failure can pass; when the database refuses the data of some
   * event (a deterministic DataRejectedError), the set is split in halves and each half tried on
   * its own, down to the single events at fault. Those come back as rejected, with the
   * database's error; every other event is applied. k bad events among n cost about
   * 2·k·log2(n) extra transactions, and none when all is well.
   */
  private async syncIsolating(
    kind: EntityKind,
    events: readonly SyncEvent[],
    retry: RetryOptions,
  ): Promise<{ byId: Map<string, SyncOutcome>; rejected: Map<SyncEvent, DataRejectedError> }> {
    const byId = new Map<string, SyncOutcome>();
    const rejected = new Map<SyncEvent, DataRejectedError>();
    const pending: (readonly SyncEvent[])[] = [events];
    for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
      const events = part;
      const result = await retryUntilDone<Map<string, SyncOutcome> | DataRejectedError>(
        () => this.syncEvents(events),
        (error) =>
          error instanceof DataRejectedError ? Promise.resolve(error) : Promise.reject(error),
        retry,
      );
      if (!(result instanceof DataRejectedError)) {
        for (const [eventId, outcome] of result) byId.set(eventId, outcome);
        this.metrics.clearSchemaError(kind);
      } else if (events.length === 1) {
        rejected.set(events[0] as SyncEvent, result);
      } else {
        const half = Math.ceil(events.length / 2);
        pending.push(events.slice(half), events.slice(0, half));
      }
    }
    return { byId, rejected };
  }

  private record(
    kind: EntityKind,
    messages: readonly IncomingMessage[],
    parsed: readonly (SyncEvent | InvalidEventError)[],
    outcomes: readonly SyncOutcome[],
    seconds: number,
  ): void {
    const counts = { applied: 0, duplicate: 0, stale: 0, invalid: 0 };
    for (const outcome of outcomes) counts[outcome]++;
    for (const outcome of SYNC_OUTCOMES) {
      this.metrics.recordEvents(kind, outcome, counts[outcome], seconds);
      this.summary.add(kind, outcome, counts[outcome]);
    }
    if (!Logger.isLevelEnabled('debug')) return;
    outcomes.forEach((outcome, i) => {
      const message = messages[i];
      if (message === undefined) return;
      const entry = parsed[i];
      this.logger.debug({
        msg: 'event handled',
        eventId: entry === undefined || entry instanceof InvalidEventError ? null : entry.eventId,
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        outcome,
        durationMs: Math.round(seconds * 1000),
      });
    });
  }

  /**
   * The idempotency check, the apply transaction and the cache update for any number of valid
   * events: a Redis hit costs no database connection; the misses share one transaction.
   */
  async syncEvents(events: readonly SyncEvent[]): Promise<Map<string, SyncOutcome>> {
    const outcomes = new Map<string, SyncOutcome>();
    const cached = await this.cachedIds(events.map((event) => event.eventId));
    for (const eventId of cached) outcomes.set(eventId, 'duplicate');
    const misses = events.filter((event) => !cached.has(event.eventId));
    if (misses.length === 0) return outcomes;

    const result = await this.unitOfWork.apply(misses);
    for (const eventId of result.alreadyProcessed.keys()) outcomes.set(eventId, 'duplicate');
    for (const [eventId, outcome] of result.recorded) outcomes.set(eventId, outcome);
    this.remember(misses, result);
    return outcomes;
  }

  /** Redis lookups that fail count as misses: the database check still stands behind them. */
  private async cachedIds(eventIds: readonly string[]): Promise<Set<string>> {
    try {
      const hits = await this.cache.findProcessed(eventIds);
      this.metrics.recordCache('hit', hits.size);
      this.metrics.recordCache('miss', eventIds.length - hits.size);
      return hits;
    } catch (err) {
      this.metrics.recordCache('error', eventIds.length);
      this.logger.debug(`idempotency cache skipped: ${(err as Error).message}`);
      return new Set();
    }
  }

  /**
   * Fills the cache after the commit without holding up the offset: Redis is a cache, and an
   * entry that never arrives costs one database double-check on a redelivery. A failure counts
   * against the circuit breaker (which warns when it opens) and is logged at debug.
   */
  private remember(events: readonly SyncEvent[], result: UnitOfWorkResult): void {
    const entries: CacheEntry[] = [];
    for (const event of events) {
      const outcome =
        result.recorded.get(event.eventId) ?? result.alreadyProcessed.get(event.eventId);
      if (outcome !== undefined)
        entries.push({ eventId: event.eventId, kind: event.kind, outcome });
    }
    this.cache.markProcessed(entries).catch((err: unknown) => {
      this.logger.debug(`idempotency cache not updated: ${(err as Error).message}`);
    });
  }

  private retryOptions(kind: EntityKind, heartbeat: Heartbeat): RetryOptions {
    return {
      initialDelayMs: this.config.sync.retryInitialDelayMs,
      maxDelayMs: this.config.sync.retryMaxDelayMs,
      heartbeat,
      signal: this.stopping.signal,
      onRetry: (error: SyncError, failures: number, delayMs: number) => {
        this.metrics.recordEvent(kind, 'failed');
        const line = `attempt ${failures} failed, retrying in ${delayMs} ms: ${error.name}: ${error.message}`;
        if (error instanceof SchemaError) {
          this.metrics.recordSchemaError(kind, error.message);
          this.logger.error(
            `${line} (the ${kind} tables need an operator: /ready fails until fixed)`,
          );
        } else if (error instanceof UnexpectedError) {
          this.logger.error(
            `${line} (unexpected: a bug until shown otherwise)`,
            error.cause instanceof Error ? error.cause.stack : undefined,
          );
        } else {
          this.logger.warn(line);
        }
      },
    };
  }

  /** Events waiting out a dependency give up (uncommitted) so that shutdown is not held hostage. */
  onModuleDestroy(): void {
    this.stopping.abort();
  }
}
