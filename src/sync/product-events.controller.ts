import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { KafkaBatchContext } from '../kafka/kafka-batch.context';
import { TOPIC_PATTERNS } from '../kafka/topic-patterns';
import { SyncService } from './sync.service';

@Controller()
export class ProductEventsController {
  constructor(private readonly sync: SyncService) {}

  @EventPattern(TOPIC_PATTERNS.product)
  handle(@Ctx() context: KafkaBatchContext): Promise<void> {
    return this.sync.handleBatch('product', context.getMessages(), context.getControl());
  }
}
