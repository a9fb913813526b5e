import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import type { ConsumerStatus } from './health/consumer-status';
import { HealthModule } from './health/health.module';
import { HousekeepingModule } from './housekeeping/housekeeping.module';
import { MetricsModule } from './metrics/metrics.module';
import { StatusModule } from './status/status.module';
import { SyncModule } from './sync/sync.module';

@Module({})
export class AppModule {
  /** `consumerStatus`: the instance the Kafka consumer server updates, for readiness. */
  static forRoot(config: AppConfig, consumerStatus: ConsumerStatus): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        SyncModule,
        HealthModule.forRoot(consumerStatus),
        HousekeepingModule,
        // Left out when disabled, so that its routes answer 404 like any unknown path.
        ...(config.statusPage.enabled ? [StatusModule.forRoot(consumerStatus)] : []),
      ],
    };
  }
}
