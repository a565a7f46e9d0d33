import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { PayeesController } from './payees.controller';
import { PayeesRepository } from './payees.repository';
import { PayeesService } from './payees.service';

/** Verification of payee: POST /payees/verify, and its per-user limit. */
@Module({
  imports: [AuthModule],
  controllers: [PayeesController],
  providers: [PayeesService, PayeesRepository],
  exports: [PayeesService],
})
export class PayeesModule {}
