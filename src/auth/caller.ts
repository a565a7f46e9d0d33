import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthUser } from './auth-user';
import { ApiError } from '../common/problem';
import { requestOf } from '../common/http-context';
import { MeRow } from './session-sql';
import { Role } from '../identity/role';
import { sessionEnded } from './auth.errors';

/**
 * On a route marked @SessionInQuery() (session-in-query.decorator.ts) the
 * guard verifies the access token (signature, expiry, issuer, audience) but
 * leaves the session check to the route's own SQL statement, which starts with {@link meCte}: one database
 * round trip per request instead of two. Revocation, disabling and role
 * changes still apply at the next request; the caller's user is known only
 * once that statement has run.
 */
export const SESSION_IN_QUERY = 'auth:session-in-query';

/** The user of a `me` row (ME_COLUMNS), or null when there is none: the session has ended. */
export function userFromMe(row: Partial<MeRow> | undefined, sessionId: string): AuthUser | null {
  if (!row?.me_id || !row.me_role || !row.me_username) return null;
  return {
    id: row.me_id,
    username: row.me_username,
    role: row.me_role,
    clientId: row.me_client_id ?? null,
    sessionId,
  };
}

/** 403 unless the user has one of `roles` (none given: any role will do). */
export function requireRole(user: AuthUser, roles: Role[] | undefined): void {
  if (roles && roles.length > 0 && !roles.includes(user.role)) {
    throw new ApiError('FORBIDDEN', 'Your role may not do this');
  }
}

/** The caller of a @SessionInQuery() route: a verified token whose session is not yet checked. */
export class Caller {
  /** Roles the route allows (empty: any), set by the guard. */
  roles: Role[] = [];
  /** Whether the session has been checked, whatever the outcome. */
  checked = false;
  private settled?: AuthUser;

  constructor(
    readonly userId: string,
    readonly sessionId: string,
  ) {}

  /** The user once a statement has checked the session, else undefined. */
  get user(): AuthUser | undefined {
    return this.settled;
  }

  /** The session and user ids, for meCte's two placeholders. */
  get params(): [string, string] {
    return [this.sessionId, this.userId];
  }

  /**
   * Takes the `me` columns of the statement's first row: none means the
   * session has ended (401); a role the route does not allow is 403.
   */
  settle(row: Partial<MeRow> | undefined): AuthUser {
    return this.accept(userFromMe(row, this.sessionId));
  }

  /** Takes a user checked some other way (SessionsService.authenticate); null means ended. */
  accept(user: AuthUser | null): AuthUser {
    this.checked = true;
    if (!user) throw sessionEnded();
    requireRole(user, this.roles);
    this.settled = user;
    return user;
  }
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const { user } = requestOf<{ user: unknown }>(ctx);
  if (!(user instanceof Caller)) throw new Error('@CurrentCaller() needs @SessionInQuery()');
  return user;
});
