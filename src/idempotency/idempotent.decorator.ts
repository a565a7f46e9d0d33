import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ReplayInterceptor } from './replay.interceptor';

/**
 * A money POST that honours Idempotency-Key: a stored answer its handler
 * returns (a Replay) is sent as it was first sent (ReplayInterceptor), and
 * the contract is documented.
 */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(ReplayInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        '1 to 255 characters. The same key with the same body returns the first answer again ' +
        '(header Idempotent-Replayed: true) and does nothing more; kept 24 hours, per user. ' +
        'Another body or route with the key: 422 IDEMPOTENCY_KEY_REUSED; the first still running: 409 IDEMPOTENCY_KEY_IN_USE.',
    }),
  );

export const IN_USE = 'IDEMPOTENCY_KEY_IN_USE while the first request with the key runs';
export const REUSED = 'IDEMPOTENCY_KEY_REUSED for the key with another body or route';
