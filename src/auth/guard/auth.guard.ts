import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../../common/problem';
import { requestOf } from '../../common/http-context';
import { Role } from '../../identity/role';
import { IS_PUBLIC, ROLES } from '../auth.decorators';
import { Caller, requireRole, SESSION_IN_QUERY } from '../caller';
import { sessionEnded } from '../auth.errors';
import { AccessClaims } from '../tokens/access-claims';
import { AccessTokenCache } from './access-token-cache';
import { JWT_STRATEGY } from './jwt.strategy';
import { SessionsService } from '../sessions/sessions.service';
import { tokenError } from '../tokens/tokens.service';

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

/** What passport says when a request has no token, or the token failed (jsonwebtoken's errors). */
function refusal(info: unknown): ApiError {
  const message = (info as { message?: string } | null)?.message;
  if (message === 'No auth token') {
    return new ApiError('UNAUTHENTICATED', 'A bearer access token is required');
  }
  return tokenError(info);
}

/**
 * The global guard, AuthGuard('jwt') of @nestjs/passport: every route needs
 * a valid access token unless marked @Public(), and one of the roles of
 * @Auth(...roles) when it names any.
 *
 * The token is the bearer token of the Authorization header, nowhere else.
 * One this instance has verified before is taken from the cache of verified
 * tokens (AccessTokenCache: its whole text, its expiry and age checked); any
 * other goes through passport and the JWT strategy (jwt.strategy.ts), then
 * into the cache. So passport runs the first time an instance sees a token,
 * and a request with a known token costs no more than a Map lookup: passport's
 * `authenticate` builds a middleware and a strategy object and writes eight
 * properties onto the request, which the hottest reads would feel. Then the
 * token's session is checked in the database, or, on a @SessionInQuery()
 * route, by the route's own statement (the request's user is then a
 * {@link Caller} that carries the route's roles).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly verified: AccessTokenCache,
    private readonly sessions: SessionsService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const auth = routeAuth(this.reflector, context);
    if (auth.public) return true;
    const request = requestOf<{ headers: Record<string, unknown>; user?: unknown }>(context);
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new ApiError('UNAUTHENTICATED', 'A bearer access token is required');
    }
    const token = header.slice(7).trim();
    let claims = this.verified.get(token);
    if (claims === undefined) {
      // Throws UNAUTHENTICATED, TOKEN_INVALID or TOKEN_EXPIRED (handleRequest).
      await super.canActivate(context);
      claims = this.verified.add(token, request.user as AccessClaims);
    }
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

  /** passport's outcome: the strategy's claims, or the error this API answers. */
  override handleRequest<T = AccessClaims>(error: unknown, user: unknown, info: unknown): T {
    if (error) throw error instanceof ApiError ? error : tokenError(error);
    if (!user) throw refusal(info);
    return user as T;
  }
}
