import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { Replay } from './idempotency';

/**
 * Sends a Replay, the stored first answer to an Idempotency-Key, exactly as
 * it was sent: its status, its content type, its body text, and the header
 * Idempotent-Replayed: true. Anything else the handler returns passes as is.
 */
/**
 * What Fastify gives a JSON answer it serializes itself, and so gave the
 * first answer; a serializer of one's own gets no charset added.
 */
function withCharset(contentType: string): string {
  return /;\s*charset=/i.test(contentType) ? contentType : `${contentType}; charset=utf-8`;
}

@Injectable()
export class ReplayInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!(result instanceof Replay)) return result;
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        void reply
          .header('content-type', withCharset(result.contentType))
          .header('idempotent-replayed', 'true');
        // Nest gives the reply the route's status (201) after this; the stored one (a stored
        // refusal's 422, say) is set as Fastify serializes the answer, the last step before
        // the status line is written. Once: anything sent after it is serialized as usual.
        let replayed = false;
        reply.serializer((payload: unknown) => {
          if (replayed || payload !== result) return JSON.stringify(payload);
          replayed = true;
          void reply.code(result.status);
          return result.body;
        });
        return result;
      }),
    );
  }
}
