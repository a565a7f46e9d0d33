import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemBody } from '../common/problem';
import { pathOf } from '../common/request-path';

/** @fastify/cors's answer to an OPTIONS request that is not a valid preflight. */
const INVALID_PREFLIGHT = 'Invalid Preflight Request';

/** The methods the API's routes use; a browser asks before sending PATCH or DELETE. */
export const API_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];

/** The request headers a page may send: the API needs no other. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'X-Request-Id',
];

/** The response headers a page may read, beyond the few every browser shows. */
export const CORS_EXPOSED_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'Idempotent-Replayed',
  'Content-Disposition',
  'WWW-Authenticate',
];

/**
 * The CORS settings of CORS_ORIGINS: `*` lets any page call without
 * credentials (the API takes its token from the Authorization header, never a
 * cookie, so a page needs none); a list lets those origins call with
 * credentials. Either way the same methods, request and response headers, and
 * a cacheable preflight. An origin that is not listed gets no CORS header at
 * all, not even the exposed headers: nothing of the list is echoed.
 */
export function corsOptions(origins: string[], maxAgeSeconds: number) {
  const common = {
    methods: API_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: maxAgeSeconds,
    strictPreflight: true,
  };
  if (origins.includes('*')) return { ...common, origin: '*', credentials: false };
  const allowed = new Set(origins);
  return {
    ...common,
    origin: (origin: string | undefined, callback: (error: null, allow: string | false) => void) =>
      callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
  };
}

/**
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
 * origin that CORS_ORIGINS does not allow, or with CORS off, is answered 204
 * with no CORS header: the browser then refuses the call by itself. Without
 * this it would reach the router, which knows no OPTIONS route, and get 405.
 */
export function answerRefusedPreflights(fastify: FastifyInstance, origins: string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.raw.method !== 'OPTIONS' || any) return done();
    const origin = request.headers.origin;
    if (origin === undefined || request.headers['access-control-request-method'] === undefined) {
      return done();
    }
    if (allowed.has(origin)) return done();
    void reply.code(204).header('content-length', '0').send();
  });
}

/** The start-up line for a developer whose page on another origin would be refused, or none. */
export function corsNotice(nodeEnv: string, origins: string[]): string | undefined {
  if (nodeEnv !== 'development' || origins.length > 0) return undefined;
  return (
    'CORS_ORIGINS is empty: browsers on other origins will be refused; ' +
    'to allow a frontend, set e.g. CORS_ORIGINS=http://localhost:5173 (comma-separated, or *)'
  );
}

/**
 * The CORS layer refuses an OPTIONS with an Origin but no
 * Access-Control-Request-Method in plain text: this is the problem details
 * to send instead, or undefined for any other answer.
 */
export function invalidPreflightAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): string | undefined {
  if (reply.statusCode !== 400 || payload !== INVALID_PREFLIGHT) return undefined;
  void reply.header('content-type', 'application/problem+json');
  const detail = 'A CORS preflight needs Origin and Access-Control-Request-Method';
  return JSON.stringify(
    problemBody({ code: 'VALIDATION_FAILED', detail }, pathOf(request.url), String(request.id)),
  );
}
