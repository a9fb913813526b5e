import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { KafkaBatchContext } from '../kafka/kafka-batch.context';
import { TOPIC_PATTERNS } from '../kafka/topic-patterns';
import { SyncService } from './sync.service';

@Controller()
export class CustomerEventsController {
  constructor(private readonly sync: SyncService) {}

  @EventPattern(TOPIC_PATTERNS.customer)
  handle(@Ctx() context: KafkaBatchContext): Promise<void> {
    return this.sync.handleBatch('customer', context.getMessages(), context.getControl());
  }
}
