import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemBody } from '../common/problem';
import { pathOf } from '../common/request-path';

/** @fastify/cors's answer to an OPTIONS request that is not a valid preflight. */
const INVALID_PREFLIGHT = 'Invalid Preflight Request';

/** The methods the API's routes use; a browser asks before sending PATCH or DELETE. */
export const API_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];

export function corsOptions(origins: string[]) {
  if (origins.includes('*')) return { origin: '*', credentials: false, methods: API_METHODS };
  return {
    origin: origins,
    credentials: true,
    methods: API_METHODS,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition'],
  };
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
