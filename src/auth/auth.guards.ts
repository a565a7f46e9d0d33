import { ExecutionContext, Injectable, CanActivate } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AuthUser, IS_PUBLIC, ROLES } from '../common/auth.decorators';
import { ApiError } from '../common/problem';
import { Role } from '../users/role';
import { Caller, requireRole, SESSION_IN_QUERY } from './caller';

/** Global: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const inQuery = this.reflector.get<boolean | undefined>(SESSION_IN_QUERY, context.getHandler());
    if (inQuery)
      (context.switchToHttp().getRequest<object>() as Record<string, boolean>)[SESSION_IN_QUERY] =
        true;
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
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    const user = context.switchToHttp().getRequest<{ user?: AuthUser | Caller }>().user;
    if (user instanceof Caller) {
      // Checked when the route's statement has found the user.
      user.roles = roles ?? [];
      return true;
    }
    if (!roles || roles.length === 0) return true;
    if (!user) throw new ApiError('FORBIDDEN', 'Your role may not do this');
    requireRole(user, roles);
    return true;
  }
}
