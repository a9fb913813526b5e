import { type DynamicModule, Module } from '@nestjs/common';
import { ConsumerStatus } from '../health/consumer-status';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { OutcomeSamplerService } from './outcome-sampler.service';
import { StatusAssets } from './status-assets';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

/** The operator's status page (`GET /`) and its JSON (`GET /status`); see StatusService. */
@Module({})
export class StatusModule {
  /** `consumerStatus`: the instance the Kafka consumer server updates. */
  static forRoot(consumerStatus: ConsumerStatus): DynamicModule {
    return {
      module: StatusModule,
      // PersistenceModule: the data source sync_errors is read from; IdempotencyModule: Redis.
      imports: [PersistenceModule, IdempotencyModule],
      controllers: [StatusController],
      providers: [
        { provide: ConsumerStatus, useValue: consumerStatus },
        OutcomeSamplerService,
        StatusAssets,
        StatusService,
      ],
    };
  }
}
