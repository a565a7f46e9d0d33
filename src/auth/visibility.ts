import { AuthUser } from './auth-user';
import { Role } from '../identity/role';

export const isStaff = (user: AuthUser) => user.role === Role.Admin || user.role === Role.Teller;

/**
 * SQL condition: the account aliased `alias` is visible to the caller whose
 * visibilityParam(user) is bound to `param`. Staff (null) see every account;
 * a customer only those its client holds.
 */
export function accountVisibleSql(alias: string, param: string): string {
  return `(${param}::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = ${alias}.id AND vh.client_id = ${param}::uuid))`;
}

/** Null for staff; the customer's client id otherwise. */
export function visibilityParam(user: AuthUser): string | null {
  return isStaff(user) ? null : user.clientId;
}
