import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { problemBody } from '../../common/problem';
import { Caller } from '../caller';
import { pathOf } from '../../common/request-path';

const logger = new Logger('SessionInQuery');

/**
 * Fails closed: a @SessionInQuery() route whose handler answered without its
 * statement having checked the session (Caller.settle or Caller.accept) is a
 * bug, and its answer is never sent. The client gets 500 problem details and
 * the log an error naming the route, whatever the handler forgot.
 */
export function refuseUncheckedSessions(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const user = (request as { user?: unknown }).user;
    if (!(user instanceof Caller) || user.checked || reply.statusCode >= 400) {
      return done(null, payload);
    }
    logger.error(
      `${request.method} ${request.routeOptions.url ?? ''} answered without checking the session: a bug; answered 500 instead`,
    );
    if (payload instanceof Readable) payload.destroy();
    void reply.code(500).header('content-type', 'application/problem+json');
    reply.removeHeader('content-disposition');
    const body = problemBody(
      { code: 'INTERNAL', detail: 'An unexpected error occurred' },
      pathOf(request.url),
      String(request.id),
    );
    done(null, JSON.stringify(body));
  });
}
