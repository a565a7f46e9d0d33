import { Module } from '@nestjs/common';
import { IdempotencyService } from './idempotency.service';
import { ReplayInterceptor } from './replay.interceptor';

/** Idempotency-Key: each money POST's key, its lock and its stored answer. */
@Module({
  providers: [IdempotencyService, ReplayInterceptor],
  exports: [IdempotencyService, ReplayInterceptor],
})
export class IdempotencyModule {}
