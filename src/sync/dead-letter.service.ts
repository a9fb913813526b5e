import { Injectable, Logger } from '@nestjs/common';
import { InvalidEventError } from '../common/errors/invalid-event.error';
import { DeadLetterProducer } from '../kafka/dead-letter.producer';
import { MetricsService } from '../metrics/metrics.service';
import {
  type DeadLetterRecord,
  originKey,
  SyncErrorRepository,
} from '../persistence/sync-error.repository';
import type { EntityKind } from '../domain/entity-kind';
import type { IncomingMessage } from '../domain/sync-event';

/** One invalid message and why it is invalid. */
export interface DeadLetterEntry {
  readonly message: IncomingMessage;
  readonly error: InvalidEventError;
}

/** Contract section 4: an invalid event goes to `sync_errors` and `<topic>.dlq`, once. */
@Injectable()
export class DeadLetterService {
  private readonly logger = new Logger(DeadLetterService.name);

  constructor(
    private readonly syncErrors: SyncErrorRepository,
    private readonly producer: DeadLetterProducer,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Dead-letters a chunk's invalid messages together: one SELECT skips those recorded before,
   * one producer send publishes the rest, one multi-row INSERT records them, with a heartbeat
   * after each slow step. The row is written after the publish, so its presence means both were
   * done; retried after a partial failure, it publishes again only what has no row yet (the
   * dead-letter topic may then hold a message twice, `sync_errors` never).
   */
  async deadLetterAll(
    kind: EntityKind,
    entries: readonly DeadLetterEntry[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const recorded = await this.syncErrors.findRecorded(entries.map((entry) => entry.message));
    const seen = new Set(recorded);
    const fresh = entries.filter((entry) => {
      const key = originKey(entry.message);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (recorded.size > 0) {
      this.logger.log(`${recorded.size} message(s) of the chunk were dead-lettered before`);
    }
    if (fresh.length === 0) return;

    const truncated = await this.producer.publishAll(
      fresh.map(({ message, error }) => ({
        message,
        errorType: error.errorType,
        errorMessage: error.message,
      })),
    );
    await heartbeat();
    await this.syncErrors.recordAll(fresh.map(({ message, error }) => this.record(message, error)));
    fresh.forEach(({ message, error }, i) => {
      this.metrics.recordDeadLetter(kind, error.errorType);
      this.logger.warn(
        `dead-lettered ${originKey(message)} (${error.errorType})` +
          `${truncated[i] === true ? ' with its value cut' : ''}: ${error.message}`,
      );
    });
    await heartbeat();
  }

  private record(message: IncomingMessage, error: InvalidEventError): DeadLetterRecord {
    return {
      origin: { topic: message.topic, partition: message.partition, offset: message.offset },
      eventId: error.eventId,
      errorType: error.errorType,
      errorMessage: error.message,
      payload: message.value,
    };
  }
}
