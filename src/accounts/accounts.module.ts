import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Client } from '../clients/client.entity';
import { ClientsService } from '../clients/clients.service';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

@Module({
  imports: [TypeOrmModule.forFeature([Client])],
  controllers: [AccountsController],
  providers: [AccountsService, ClientsService],
  exports: [AccountsService, ClientsService],
})
export class AccountsModule {}
