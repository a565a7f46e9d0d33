import { Catch, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemDetailsFilter } from '../../common/problem-details.filter';
import { Caller } from '../caller';
import { SessionsService } from '../sessions/sessions.service';

/**
 * On @SessionInQuery() routes (the decorator applies it): a request that
 * failed before its statement checked the session (a malformed id or body,
 * say) has its session checked now, so that an ended session or a role the
 * route refuses answers first (401, 403), as on every other route. Then the
 * error is answered as everywhere else.
 */
@Injectable()
@Catch()
export class SessionFirstFilter extends ProblemDetailsFilter {
  // The parent's optional MethodRouter (for 405s, which a matched route never answers) is left
  // out: Nest injects what this constructor declares.
  constructor(private readonly sessions: SessionsService) {
    super();
  }

  protected override send(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const caller = (request as { user?: unknown }).user;
    if (!(caller instanceof Caller) || caller.checked) return super.send(exception, request, reply);
    void this.sessions
      .resolve(caller)
      .then(() => exception)
      .catch((error: unknown) => error)
      .then((answer) => super.send(answer, request, reply));
  }
}
