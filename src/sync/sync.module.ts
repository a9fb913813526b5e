import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { DeadLetterProducer } from '../kafka/dead-letter.producer';
import { PersistenceModule } from '../persistence/persistence.module';
import { CustomerEventsController } from './customer-events.controller';
import { DeadLetterService } from './dead-letter.service';
import { OrderEventsController } from './order-events.controller';
import { ProductEventsController } from './product-events.controller';
import { SyncSummaryService } from './sync-summary.service';
import { SyncService } from './sync.service';
import { SyncUnitOfWork } from './sync-unit-of-work';

@Module({
  imports: [PersistenceModule, IdempotencyModule],
  controllers: [ProductEventsController, CustomerEventsController, OrderEventsController],
  providers: [
    SyncService,
    SyncUnitOfWork,
    SyncSummaryService,
    DeadLetterService,
    DeadLetterProducer,
  ],
  exports: [SyncService],
})
export class SyncModule {}
