import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from '../auth';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OperationsModule } from '../operations/operations.module';
import { PayeesModule } from '../payees/payees.module';
import { LifecycleService } from './lifecycle.service';
import { PruneService } from './prune.service';

@Module({
  imports: [
    ScheduleModule.forRoot(),
    AuthModule,
    IdempotencyModule,
    OperationsModule,
    PayeesModule,
  ],
  providers: [PruneService, LifecycleService],
  exports: [PruneService],
})
export class MaintenanceModule {}
