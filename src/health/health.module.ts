import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { ConsumerStatus } from './consumer-status';
import { HealthController } from './health.controller';
import { KafkaConsumerHealthIndicator } from './kafka-consumer.health';
import { RedisHealthIndicator } from './redis.health';
import { SchemaHealthIndicator } from './schema.health';

/** `GET /health` and `GET /ready`. */
@Module({})
export class HealthModule {
  /** `consumerStatus`: the instance the Kafka consumer server updates. */
  static forRoot(consumerStatus: ConsumerStatus): DynamicModule {
    return {
      module: HealthModule,
      // PersistenceModule brings the TypeORM data source the MySQL ping uses.
      imports: [TerminusModule.forRoot(), PersistenceModule, IdempotencyModule],
      controllers: [HealthController],
      providers: [
        { provide: ConsumerStatus, useValue: consumerStatus },
        KafkaConsumerHealthIndicator,
        RedisHealthIndicator,
        SchemaHealthIndicator,
      ],
    };
  }
}
