import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { CommonModule } from '../common/common.module';
import { AuditEventsController, OwnEventsController } from './audit-events.controller';

/** The audit log's routes: /audit-events (admin) and /auth/events (anyone's own). */
@Module({
  imports: [AuthModule, CommonModule],
  controllers: [AuditEventsController, OwnEventsController],
})
export class AuditEventsModule {}
