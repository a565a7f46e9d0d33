import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuthModule } from '../auth';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { LedgerRepository } from './ledger.repository';
import { LedgerService } from './ledger.service';
import { OperationsController } from './operations.controller';
import { OperationsQueryService } from './operations-query.service';
import { OperationsRepository } from './operations.repository';
import { StatementSlotsRepository } from './statement-slots.repository';
import { StatementSlotsService } from './statement-slots.service';
import { CommonModule } from '../common/common.module';

@Module({
  imports: [CommonModule, AccountsModule, AuthModule, IdempotencyModule],
  controllers: [OperationsController],
  providers: [
    LedgerService,
    LedgerRepository,
    OperationsQueryService,
    OperationsRepository,
    StatementSlotsService,
    StatementSlotsRepository,
  ],
  exports: [StatementSlotsService],
})
export class OperationsModule {}
