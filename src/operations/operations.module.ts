import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuthModule } from '../auth/auth.module';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { LedgerService } from './ledger.service';
import { OperationsController } from './operations.controller';
import { OperationsQueryService } from './operations-query.service';
import { OperationsRepository } from './operations.repository';

@Module({
  imports: [AccountsModule, AuthModule],
  controllers: [OperationsController],
  providers: [LedgerService, OperationsQueryService, OperationsRepository, IdempotencyService],
})
export class OperationsModule {}
