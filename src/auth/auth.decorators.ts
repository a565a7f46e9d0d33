import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { Role } from '../identity/role';
import { Caller } from './caller';
import { ApiProblems } from '../common/api-problems';
import { requestOf } from '../common/http-context';
import { AuthUser } from './auth-user';

export const IS_PUBLIC = 'auth:public';
export const ROLES = 'auth:roles';

export type { AuthUser } from './auth-user';

/** Opts a route out of the global authentication guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Requires a valid access token and, when roles are given, one of them.
 * Also documents the bearer requirement and the 401/403 answers.
 */
export function Auth(...roles: Role[]) {
  return applyDecorators(
    SetMetadata(ROLES, roles),
    ApiBearerAuth(),
    ApiProblems([
      401,
      'UNAUTHENTICATED, TOKEN_INVALID or TOKEN_EXPIRED: missing, invalid, expired or revoked access token',
    ]),
    ...(roles.length > 0
      ? [ApiProblems([403, `FORBIDDEN: requires role ${roles.join(' or ')}`])]
      : []),
  );
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  const { user } = requestOf<{ user: AuthUser | Caller }>(ctx);
  // A @SessionInQuery() route has no checked user before its statement: it takes @CurrentCaller().
  if (user instanceof Caller) throw new Error('@CurrentUser() on a @SessionInQuery() route');
  return user;
});
