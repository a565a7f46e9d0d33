import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Role } from '../users/role';
import { ProblemDetailsDto } from './problem.dto';

export const IS_PUBLIC = 'auth:public';
export const ROLES = 'auth:roles';

/** The authenticated caller, as the per-request session check found it. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  clientId: string | null;
  sessionId: string;
}

/** Opts a route out of the global authentication guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Requires a valid access token and, when roles are given, one of them.
 * Also documents the bearer requirement and the 401/403 answers.
 */
export function Auth(...roles: Role[]) {
  const decorators = [
    SetMetadata(ROLES, roles),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description: 'Missing, invalid, expired or revoked access token',
      type: ProblemDetailsDto,
    }),
  ];
  if (roles.length > 0) {
    decorators.push(
      ApiForbiddenResponse({
        description: `Requires role: ${roles.join(' or ')}`,
        type: ProblemDetailsDto,
      }),
    );
  }
  return applyDecorators(...decorators);
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  const request = ctx.switchToHttp().getRequest<{ user: AuthUser }>();
  return request.user;
});
