import { Global, Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { ConsumerLagService } from './consumer-lag.service';
import { DbPoolMetricsService } from './db-pool-metrics.service';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({
  // PersistenceModule brings the TypeORM data source whose pool the pool gauge reads.
  imports: [PersistenceModule],
  controllers: [MetricsController],
  providers: [MetricsService, DbPoolMetricsService, ConsumerLagService],
  exports: [MetricsService, ConsumerLagService],
})
export class MetricsModule {}
