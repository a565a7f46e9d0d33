import { ApiError } from '../common/problem';

/** 422 INSUFFICIENT_FUNDS: the debit would take the balance below -overdraftLimit. */
export const insufficientFunds = () =>
  new ApiError(
    'INSUFFICIENT_FUNDS',
    'The balance plus the overdraft limit does not cover this amount',
  );
