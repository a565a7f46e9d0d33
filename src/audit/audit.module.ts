import { Global, Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository';
import { AuditSealer, AuditService } from './audit.service';

/**
 * The audit log's core: writing events in the transaction of what they
 * record, sealing them into a hash chain, verifying it. Global, as every
 * module records; it depends on no feature module. Its routes are in
 * audit-events/.
 */
@Global()
@Module({
  providers: [AuditRepository, AuditService, AuditSealer],
  exports: [AuditService, AuditRepository],
})
export class AuditModule {}
