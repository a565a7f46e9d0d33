import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems';

/** Documents the Idempotency-Key contract on a money POST. */
export const ApiIdempotent = () =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        '1 to 255 characters. The same key with the same body returns the first answer again ' +
        '(header Idempotent-Replayed: true) and does nothing more; kept 24 hours, per user.',
    }),
    ApiProblems(
      [409, 'IDEMPOTENCY_KEY_IN_USE: the first request with this key is still running'],
      [422, 'IDEMPOTENCY_KEY_REUSED: the key was used with another body or route'],
    ),
  );
