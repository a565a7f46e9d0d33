import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../common/problem';
import { requestOf } from '../common/http-context';
import { Role } from '../users/role';
import { AuthUser, IS_PUBLIC, ROLES } from './auth.decorators';
import { Caller, requireRole, SESSION_IN_QUERY, sessionEnded } from './caller';
import { SessionsService } from './sessions.service';
import { TokensService } from './tokens.service';

/** What a route declares about its caller: @Public(), @Auth(...roles), @SessionInQuery(). */
interface RouteAuth {
  public: boolean;
  roles: Role[];
  sessionInQuery: boolean;
}

const routeAuthCache = new WeakMap<object, RouteAuth>();

/** The route's declarations, read from its metadata once per handler and kept. */
function routeAuth(reflector: Reflector, context: ExecutionContext): RouteAuth {
  const handler = context.getHandler();
  let auth = routeAuthCache.get(handler);
  if (!auth) {
    const targets = [handler, context.getClass()];
    auth = {
      public: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
      roles: reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets) ?? [],
      sessionInQuery: reflector.get<boolean | undefined>(SESSION_IN_QUERY, handler) === true,
    };
    if (auth.public && auth.roles.length > 0) {
      // Which one was meant? Neither is assumed: the route answers 500 and the log names it.
      throw new Error(
        `${context.getClass().name}.${handler.name} is both @Public() and @Auth(roles)`,
      );
    }
    routeAuthCache.set(handler, auth);
  }
  return auth;
}

/**
 * The global guard: every route needs a valid access token unless marked
 * @Public(), and one of the roles of @Auth(...roles) when it names any.
 *
 * The bearer token of the Authorization header (and nowhere else) is
 * verified by TokensService: pinned algorithm, signature, issuer, audience,
 * expiry. Then its session is checked in the database, or, on a
 * @SessionInQuery() route, by the route's own statement (the request's user
 * is then a {@link Caller} that carries the route's roles).
 *
 * A plain Nest guard rather than passport: passport's `authenticate` builds a
 * middleware and a strategy object with five closures, and writes eight
 * properties onto every request, for sessions, redirects and strategy chains
 * this API does not have; that was an eighth of the CPU of an account read.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const auth = routeAuth(this.reflector, context);
    if (auth.public) return true;
    const request = requestOf<{ headers: Record<string, unknown>; user?: AuthUser | Caller }>(
      context,
    );
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new ApiError('UNAUTHENTICATED', 'A bearer access token is required');
    }
    // Throws TOKEN_INVALID or TOKEN_EXPIRED.
    const claims = this.tokens.verifyAccess(header.slice(7).trim());
    if (auth.sessionInQuery) {
      // Its roles are checked when the route's statement has found the user.
      const caller = new Caller(claims.sub, claims.sid);
      caller.roles = auth.roles;
      request.user = caller;
      return true;
    }
    const user = await this.sessions.authenticate(claims.sid, claims.sub);
    if (!user) throw sessionEnded();
    requireRole(user, auth.roles);
    request.user = user;
    return true;
  }
}
