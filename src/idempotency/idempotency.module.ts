import { Module } from '@nestjs/common';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { IdempotencyService } from './idempotency.service';
import { ReplayInterceptor } from './replay.interceptor';

/** Idempotency-Key: each money POST's key, its lock and its stored answer. */
@Module({
  providers: [IdempotencyService, IdempotencyKeysRepository, ReplayInterceptor],
  exports: [IdempotencyService, IdempotencyKeysRepository, ReplayInterceptor],
})
export class IdempotencyModule {}
