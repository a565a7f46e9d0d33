import helmet, { HelmetOptions } from 'helmet';
import type { FastifyInstance } from 'fastify';

/** helmet's choices, with a CSP that lets Swagger UI run from /docs. */
export const HELMET_OPTIONS: HelmetOptions = {
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
 * middleware for every request, which cost about 5% of a read.)
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

/**
 * Every reply, errors, 404s and CORS preflights included, carries the
 * security headers: set as it is sent, whoever answered (a preflight is
 * answered before any route hook runs).
 */
export function addSecurityHeaders(fastify: FastifyInstance, options?: HelmetOptions): void {
  const headers = securityHeaders(options);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(headers);
    done(null, payload);
  });
}
