import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { ClientsModule } from '../clients/clients.module';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { ClientAccountsController } from './client-accounts.controller';
import { CommonModule } from '../common/common.module';

@Module({
  imports: [CommonModule, AuthModule, ClientsModule],
  controllers: [AccountsController, ClientAccountsController],
  providers: [AccountsService, AccountsRepository],
  exports: [AccountsService],
})
export class AccountsModule {}
