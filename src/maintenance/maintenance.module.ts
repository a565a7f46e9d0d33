import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PruneService } from './prune.service';

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [PruneService],
  exports: [PruneService],
})
export class MaintenanceModule {}
