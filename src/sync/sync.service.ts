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
import { SyncUnitOfWork } from './sync-unit-of-work';

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
   * Handles one fetched partition batch in transactions of at most SYNC_BATCH_MAX_EVENTS events
   * (one in event mode), resolving each part's offset once it is applied, found duplicate or
   * stale, or dead-lettered: only then may it be committed. Stops between parts when the consumer
   * stops or loses the partition; rejects only then or when the service stops, leaving the
   * unresolved offsets where they were.
   *
   * Validation runs once per message, outside any retry: it is deterministic, so a message it
   * cannot handle is invalid, never retried. The Redis lookup is one round trip for the whole
   * fetch, and the cache is filled once at its end: in event mode these were two round trips
   * per event. An event seen earlier in the same fetch is answered from memory, as the cache
   * would answer it.
   */
  async handleBatch(
    kind: EntityKind,
    messages: readonly IncomingMessage[],
    control: BatchControl,
  ): Promise<void> {
    const size = this.config.sync.mode === 'event' ? 1 : this.config.sync.batchMaxEvents;
    const parsed = messages.map((message) => validateEvent(kind, message));
    const handled = await this.cachedIds(
      parsed.flatMap((entry) => (entry instanceof InvalidEventError ? [] : [entry.eventId])),
    );
    const committed: CacheEntry[] = [];
    try {
      for (let start = 0; start < messages.length && control.shouldContinue(); start += size) {
        const end = Math.min(start + size, messages.length);
        const chunk = { messages: messages.slice(start, end), parsed: parsed.slice(start, end) };
        await this.handleChunk(kind, chunk, handled, committed, control.heartbeat);
        const last = chunk.messages[chunk.messages.length - 1];
        if (last !== undefined) control.resolveOffset(last.offset);
        await control.heartbeat();
      }
    } finally {
      this.remember(committed);
    }
  }

  /**
   * Dead-letters a chunk's invalid messages and applies its valid ones together; records each
   * message's outcome. Only the dead-letter publish and the apply are retried. `handled` holds
   * the events known to be processed already and gains those this chunk commits; `committed`
   * gains their cache entries.
   */
  private async handleChunk(
    kind: EntityKind,
    chunk: {
      messages: readonly IncomingMessage[];
      parsed: readonly (SyncEvent | InvalidEventError)[];
    },
    handled: Set<string>,
    committed: CacheEntry[],
    heartbeat: Heartbeat,
  ): Promise<void> {
    const started = performance.now();
    const { messages, parsed } = chunk;
    const retry = this.retryOptions(kind, heartbeat);
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

    const misses = valid.filter((event) => !handled.has(event.eventId));
    const { byId, rejected } =
      misses.length === 0
        ? {
            byId: new Map<string, SyncOutcome>(),
            rejected: new Map<SyncEvent, DataRejectedError>(),
          }
        : await this.syncIsolating(kind, misses, retry, committed);
    for (const eventId of byId.keys()) handled.add(eventId);
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
   * The apply transaction, retried while the failure can pass; when the database refuses the
   * data of some event (a deterministic DataRejectedError), the set is split in halves and each
   * half tried on its own, down to the single events at fault. Those come back as rejected, with
   * the database's error; every other event is applied. k bad events among n cost about
   * 2·k·log2(n) extra transactions, and none when all is well.
   */
  private async syncIsolating(
    kind: EntityKind,
    events: readonly SyncEvent[],
    retry: RetryOptions,
    committed: CacheEntry[],
  ): Promise<{ byId: Map<string, SyncOutcome>; rejected: Map<SyncEvent, DataRejectedError> }> {
    const byId = new Map<string, SyncOutcome>();
    const rejected = new Map<SyncEvent, DataRejectedError>();
    const pending: (readonly SyncEvent[])[] = [events];
    for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
      const events = part;
      const result = await retryUntilDone<Map<string, SyncOutcome> | DataRejectedError>(
        () => this.apply(events, committed),
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
   * One transaction for events Redis did not know, with the database's double-check; their
   * cache entries join `committed` once it has committed.
   */
  private async apply(
    events: readonly SyncEvent[],
    committed: CacheEntry[],
  ): Promise<Map<string, SyncOutcome>> {
    const result = await this.unitOfWork.apply(events);
    const outcomes = new Map<string, SyncOutcome>();
    for (const event of events) {
      const recorded = result.recorded.get(event.eventId);
      const before = result.alreadyProcessed.get(event.eventId);
      const outcome = recorded ?? before;
      if (outcome === undefined || outcomes.has(event.eventId)) continue;
      outcomes.set(event.eventId, recorded ?? 'duplicate');
      committed.push({ eventId: event.eventId, kind: event.kind, outcome });
    }
    return outcomes;
  }

  /**
   * The ids Redis knows, asked once each; counted per event. Lookups that fail count as misses:
   * the database check still stands behind them.
   */
  private async cachedIds(eventIds: readonly string[]): Promise<Set<string>> {
    try {
      const hits = await this.cache.findProcessed([...new Set(eventIds)]);
      const hitCount = eventIds.reduce((n, eventId) => (hits.has(eventId) ? n + 1 : n), 0);
      this.metrics.recordCache('hit', hitCount);
      this.metrics.recordCache('miss', eventIds.length - hitCount);
      return hits;
    } catch (err) {
      this.metrics.recordCache('error', eventIds.length);
      this.logger.debug(`idempotency cache skipped: ${(err as Error).message}`);
      return new Set();
    }
  }

  /**
   * Fills the cache after the commits without holding up the offsets: Redis is a cache, and an
   * entry that never arrives costs one database double-check on a redelivery. A failure counts
   * against the circuit breaker (which warns when it opens) and is logged at debug.
   */
  private remember(entries: readonly CacheEntry[]): void {
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
