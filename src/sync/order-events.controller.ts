import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { incomingMessage } from '../kafka/incoming-message';
import { KafkaBatchContext } from '../kafka/kafka-batch.context';
import { BATCH_PATTERNS, TOPIC_PATTERNS } from '../kafka/topic-patterns';
import type { SyncOutcome } from '../domain/sync-outcome';
import { SyncService } from './sync.service';

@Controller()
export class OrderEventsController {
  constructor(private readonly sync: SyncService) {}

  @EventPattern(TOPIC_PATTERNS.order)
  handle(@Ctx() context: KafkaContext): Promise<SyncOutcome> {
    return this.sync.handleMessage('order', incomingMessage(context), context.getHeartbeat());
  }

  @EventPattern(BATCH_PATTERNS.order)
  handleBatch(@Ctx() context: KafkaBatchContext): Promise<void> {
    return this.sync.handleBatch('order', context.getMessages(), context.getControl());
  }
}
