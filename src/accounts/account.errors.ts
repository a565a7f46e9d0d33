import { ApiError } from '../common/problem';
import { Permission, permits } from './account-status';

/** 409 ACCOUNT_NOT_ACTIVE: the account's status does not permit the change. */
export const notActive = (status: string) =>
  new ApiError('ACCOUNT_NOT_ACTIVE', `The account is ${status}`);

/** Throws ACCOUNT_NOT_ACTIVE unless an account in `status` may do `what`. */
export function requirePermission(status: string, what: Permission): void {
  if (!permits(status, what)) throw notActive(status);
}
