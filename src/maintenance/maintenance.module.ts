import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LifecycleService } from './lifecycle.service';
import { PruneService } from './prune.service';

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [PruneService, LifecycleService],
  exports: [PruneService],
})
export class MaintenanceModule {}
