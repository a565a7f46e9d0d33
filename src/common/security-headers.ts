import helmet, { HelmetOptions } from 'helmet';
import type { FastifyInstance } from 'fastify';

/**
 * helmet's choices for the API's answers (JSON, problem details, nothing):
 * no page is ever rendered from them or framed, so the policy allows nothing
 * at all: the one recommended for APIs, and 240 bytes less on every answer
 * than a page's policy.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: [`'none'`], frameAncestors: [`'none'`] },
  },
  frameguard: { action: 'deny' },
};

/** helmet's choices for Swagger UI's pages (/docs), with a CSP that lets them run. */
export const DOCS_HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
      scriptSrc: [`'self'`],
      // Served over plain HTTP too (behind TLS in production): never rewrite to https.
      upgradeInsecureRequests: null,
    },
  },
};

/**
 * The headers helmet sets, worked out once: with no per-request nonce they
 * are the same on every response. (@fastify/helmet builds a new helmet
 * middleware for every request, a cost every read would pay.)
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    response as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (error?: unknown) => {
      failure = error;
    },
  );
  if (failure) throw failure instanceof Error ? failure : new Error('helmet refused its options');
  return headers;
}

/** Whether a request is for Swagger UI (its page, assets and document). */
export const isDocs = (url: string) => url.startsWith('/docs');

/**
 * Every reply, errors, 404s and CORS preflights included, carries the
 * security headers: set as it is sent, whoever answered (a preflight is
 * answered before any route hook runs). Swagger UI's get the policy its
 * pages need; every other the API's.
 */
export function addSecurityHeaders(fastify: FastifyInstance): void {
  const api = securityHeaders(HELMET_OPTIONS);
  const docs = securityHeaders(DOCS_HELMET_OPTIONS);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.headers(isDocs(request.url) ? docs : api);
    done(null, payload);
  });
}
