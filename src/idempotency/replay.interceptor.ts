import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { Replay } from './idempotency';

/**
 * Sends a Replay, the stored first answer to an Idempotency-Key, exactly as
 * it was sent: its status, its content type, its body text, and the header
 * Idempotent-Replayed: true. Anything else the handler returns passes as is.
 */
@Injectable()
export class ReplayInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!(result instanceof Replay)) return result;
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        void reply.header('content-type', result.contentType).header('idempotent-replayed', 'true');
        // Nest gives the reply the route's status (201) after this; the stored one (a stored
        // refusal's 422, say) is set as Fastify serializes the answer, the last step before
        // the status line is written.
        reply.serializer(() => {
          void reply.code(result.status);
          return result.body;
        });
        return result;
      }),
    );
  }
}
