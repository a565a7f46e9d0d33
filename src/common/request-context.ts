import type { FastifyRequest } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import { callerAddress } from './request-origin';

/**
 * The request being handled, for what records where a change came from (the
 * audit log) without every service passing it along. Entered just before
 * the handler (bootstrap/hooks.ts), after the body has been read.
 */
export const currentRequest = new AsyncLocalStorage<FastifyRequest>();

/** Where the current request comes from: address, user agent and X-Request-Id; nulls outside one. */
export function requestTrace(): {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
} {
  const request = currentRequest.getStore();
  if (!request) return { ip: null, userAgent: null, requestId: null };
  const agent = request.headers['user-agent'];
  return {
    ip: callerAddress(request) || null,
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
    requestId: typeof request.id === 'string' ? request.id : null,
  };
}
