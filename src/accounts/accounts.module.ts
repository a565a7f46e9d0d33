import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ClientsModule } from '../clients/clients.module';
import { Cursors } from '../common/pagination';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { ClientAccountsController } from './client-accounts.controller';

@Module({
  imports: [AuthModule, ClientsModule],
  controllers: [AccountsController, ClientAccountsController],
  providers: [AccountsService, AccountsRepository, Cursors],
  exports: [AccountsService],
})
export class AccountsModule {}
