import { Catch, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../../common/problem';
import { ProblemDetailsFilter, Resolved } from '../../common/problem-details.filter';

/**
 * The error bodies of djangorestframework-simplejwt, for clients of the
 * Django original, on SimpleJwtController's routes; an error simplejwt has
 * no body for is answered with problem details, as everywhere else.
 */
@Injectable()
@Catch()
export class SimpleJwtFilter extends ProblemDetailsFilter {
  // Its own (empty) parameter list: Nest injects what a filter's constructor declares, and the
  // parent's optional MethodRouter (for 405s, which a matched route never answers) is no provider.
  constructor() {
    super();
  }

  protected override write(resolved: Resolved, request: FastifyRequest, reply: FastifyReply) {
    const body = simpleJwtBody(resolved);
    if (!body) return super.write(resolved, request, reply);
    void reply
      .status(ERROR_CODES[resolved.code])
      .headers({ ...resolved.headers, 'content-type': 'application/json; charset=utf-8' })
      .send(body);
  }
}

function simpleJwtBody(resolved: Resolved): object | null {
  switch (resolved.code) {
    case 'INVALID_CREDENTIALS':
      return { detail: 'No active account found with the given credentials' };
    case 'TOKEN_INVALID':
    case 'TOKEN_EXPIRED':
    case 'REFRESH_TOKEN_REUSED':
      return { detail: 'Token is invalid or expired', code: 'token_not_valid' };
    case 'TOO_MANY_REQUESTS':
      return {
        detail: `Request was throttled. Expected available in ${resolved.headers?.['retry-after'] ?? '60'} seconds.`,
      };
    case 'VALIDATION_FAILED':
      if (resolved.errors?.length) {
        const byField: Record<string, string[]> = {};
        for (const e of resolved.errors) (byField[e.field] ??= []).push(e.message);
        return byField;
      }
      return { detail: resolved.detail };
    default:
      return null;
  }
}
