import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { ProcessedEventsPrunerService } from './processed-events-pruner.service';

/** Periodic maintenance of the service's own tables. */
@Module({
  imports: [PersistenceModule],
  providers: [ProcessedEventsPrunerService],
  exports: [ProcessedEventsPrunerService],
})
export class HousekeepingModule {}
