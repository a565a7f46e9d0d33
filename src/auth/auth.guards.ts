import { ExecutionContext, Injectable, CanActivate } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AuthUser, IS_PUBLIC, ROLES } from './auth.decorators';
import { ApiError } from '../common/problem';
import { requestOf } from '../common/http-context';
import { Role } from '../users/role';
import { Caller, requireRole, SESSION_IN_QUERY } from './caller';

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
    routeAuthCache.set(handler, auth);
  }
  return auth;
}

/** Global: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const auth = routeAuth(this.reflector, context);
    if (auth.public) return true;
    if (auth.sessionInQuery) requestOf<Record<string, boolean>>(context)[SESSION_IN_QUERY] = true;
    return super.canActivate(context);
  }

  override handleRequest<T = AuthUser>(err: unknown, user: T | false): T {
    // Passed on as is: an ApiError from the strategy (TOKEN_INVALID, TOKEN_EXPIRED, an ended
    // session), or a database failure for the filter to map.
    if (err) throw err as Error;
    if (user) return user;
    throw new ApiError('UNAUTHENTICATED', 'A bearer access token is required');
  }
}

/** Global: enforces @Auth(...roles) after authentication. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const { roles } = routeAuth(this.reflector, context);
    const { user } = requestOf<{ user?: AuthUser | Caller }>(context);
    if (user instanceof Caller) {
      // Checked when the route's statement has found the user.
      user.roles = roles;
      return true;
    }
    if (roles.length === 0) return true;
    if (!user) throw new ApiError('FORBIDDEN', 'Your role may not do this');
    requireRole(user, roles);
    return true;
  }
}
