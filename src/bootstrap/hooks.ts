import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { answerMissingHost } from '../common/client-errors';
import { ApiError } from '../common/problem';
import { currentRequest } from '../common/request-context';
import { requestIdFrom } from '../common/request-id';
import { isDocs } from '../common/security-headers';
import { invalidPreflightAnswer } from './cors';

/** The caller's X-Request-Id when it is sane, else a new one. */
export function requestId(req: IncomingMessage): string {
  const id = requestIdFrom(req.headers['x-request-id']);
  (req as IncomingMessage & { id: string }).id = id;
  return id;
}

/**
 * The hooks every request passes: a missing Host (HTTP/1.1) answered at
 * once, 503 while the service shuts down, and on every answer its
 * X-Request-Id, Cache-Control: no-store (the docs excepted), and CORS's
 * refused preflight as problem details; and the request made current
 * (common/request-context.ts) for its handler.
 */
export function addRequestHooks(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Hooks on every request take a callback, not a promise: one allocation and one tick less each.
  fastify.addHook('onRequest', (request, reply, done) => {
    // Answered here and now, its lifecycle ends: done() is not called.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      return answerMissingHost(request, reply);
    }
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(
      new ApiError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry the request', {
        headers: { 'retry-after': '1' },
      }),
    );
  });
  // The rest of the request (guards, handler) runs with it as the current request.
  fastify.addHook('preHandler', (request, _reply, done) => currentRequest.run(request, done));
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (!reply.hasHeader('cache-control') && !isDocs(request.url)) {
      void reply.header('cache-control', 'no-store');
    }
    const preflight = invalidPreflightAnswer(request, reply, payload);
    if (preflight !== undefined) return done(null, preflight);
    done(null, payload);
  });
}
