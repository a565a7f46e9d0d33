import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthUser } from './auth.decorators';
import { Caller, SESSION_IN_QUERY, sessionEnded } from './caller';
import { SessionsService } from './sessions.service';
import { TokensService } from './tokens.service';

/**
 * Verifies the bearer access token of the Authorization header (and nowhere
 * else) with TokensService: pinned algorithm, issuer, audience, expiry; then
 * checks its session in the database, or leaves that to the route's own
 * statement (@SessionInQuery). No token: no user (401 from the guard).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<AuthUser | Caller | null> {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return null;
    // Throws TOKEN_INVALID or TOKEN_EXPIRED.
    const claims = this.tokens.verifyAccess(header.slice(7).trim());
    // The route's own statement checks the session (see SessionInQuery).
    if (SESSION_IN_QUERY in request) return new Caller(claims.sub, claims.sid);
    const user = await this.sessions.authenticate(claims.sid, claims.sub);
    if (!user) throw sessionEnded();
    return user;
  }
}
