import { Role } from '../identity/role';
import { accountVisibleSql } from './visibility';

/**
 * The SQL that checks a caller's session inside a route's own statement.
 *
 * The life of a caller on a @SessionInQuery() route:
 * 1. The guard (guard/auth.guard.ts) verifies the access token only
 *    (signature, expiry, issuer, audience) and puts a `Caller` on the
 *    request, with the route's roles; the session is not yet checked.
 * 2. The route's statement starts with {@link meCte}: the live session and
 *    its user, or nothing. It selects {@link ME_COLUMNS} beside its own
 *    columns and guards its writes with `EXISTS (SELECT 1 FROM me ...)` and
 *    {@link meHasRole}, so an ended session or a refused role changes nothing.
 * 3. The service hands the row to `Caller.settle` (401 when `me` is empty,
 *    403 for a role the route refuses); a session checked some other way
 *    goes through `Caller.accept`; `SessionsService.resolve` checks it with
 *    a statement of its own.
 * 4. A request that fails before its statement ran (a malformed body, say)
 *    has its session checked by the session-first filter
 *    (session-first.filter.ts), so 401 and 403 still come first.
 * 5. The fail-closed hook (fail-closed.ts) answers 500 instead of any
 *    success whose session was never checked: a forgotten `settle` is a bug
 *    that never leaks data.
 */

/**
 * SQL: CTE `me`, the live session `session` of user `user` (placeholders of
 * the statement that uses it, e.g. '$1' and '$2') and that user (id,
 * username, role, client_id), empty when the session has ended; it also
 * records the session's use at most once a minute.
 */
export const meCte = (session: string, user: string) => `me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = ${session} AND s.user_id = ${user} AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = ${session} AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  )`;

/** The `me` columns a statement returns for {@link Caller.settle}. */
export const ME_COLUMNS = `me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id`;

export interface MeRow {
  me_id: string;
  me_username: string;
  me_role: Role;
  me_client_id: string | null;
}

/** SQL condition: `me` may see the account aliased `alias`: the rule of accountVisibleSql, for `me`. */
export const visibleToMe = (alias: string) =>
  accountVisibleSql(alias, `(CASE WHEN me.role = 'customer' THEN me.client_id END)`);

/** SQL condition: `me` has one of the roles in the text[] parameter `param` (empty: any role). */
export const meHasRole = (param: string) =>
  `(cardinality(${param}::text[]) = 0 OR me.role = ANY(${param}::text[]))`;
