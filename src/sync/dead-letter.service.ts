import { Injectable, Logger } from '@nestjs/common';
import type { SyncError } from '../common/errors/sync.error';
import { InvalidEventError } from '../common/errors/invalid-event.error';
import { DeadLetterProducer } from '../kafka/dead-letter.producer';
import { MetricsService } from '../metrics/metrics.service';
import { SyncErrorRepository } from '../persistence/sync-error.repository';
import type { EntityKind } from '../domain/entity-kind';
import type { IncomingMessage } from '../domain/sync-event';

/** Contract section 4: an invalid event goes to `sync_errors` and `<topic>.dlq`, once. */
@Injectable()
export class DeadLetterService {
  private readonly logger = new Logger(DeadLetterService.name);

  constructor(
    private readonly syncErrors: SyncErrorRepository,
    private readonly producer: DeadLetterProducer,
    private readonly metrics: MetricsService,
  ) {}

  /** A chunk's invalid messages, one after the other, heartbeating between them. */
  async deadLetterAll(
    kind: EntityKind,
    entries: readonly { message: IncomingMessage; error: InvalidEventError }[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    for (const { message, error } of entries) {
      await this.deadLetter(kind, message, error);
      await heartbeat();
    }
  }

  async deadLetter(kind: EntityKind, message: IncomingMessage, error: SyncError): Promise<void> {
    const origin = { topic: message.topic, partition: message.partition, offset: message.offset };
    // The row is written after the publish, so its presence means both were done before a crash.
    if (await this.syncErrors.exists(origin)) {
      this.logger.log(`already dead-lettered ${origin.topic}/${origin.partition}@${origin.offset}`);
      return;
    }
    const errorType = error instanceof InvalidEventError ? error.errorType : error.name;
    const eventId = error instanceof InvalidEventError ? error.eventId : null;
    await this.producer.publish(message, errorType, error.message);
    await this.syncErrors.record({
      origin,
      eventId,
      errorType,
      errorMessage: error.message,
      payload: message.value,
    });
    this.metrics.recordDeadLetter(kind, errorType);
    this.logger.warn(
      `dead-lettered ${origin.topic}/${origin.partition}@${origin.offset} (${errorType}): ${error.message}`,
    );
  }
}
