export interface ThrottleLimits {
  windowSeconds: number;
  perUsernameAndAddress: number;
  perAddress: number;
  perUsername: number;
  /**
   * How long a success from an address spares that address the perUsername
   * limit (0: never); successes are recorded only when it is above 0.
   */
  knownAddressSeconds: number;
}

/**
 * Failed-login limits, each over the same sliding window. The per-username
 * one does not apply from an address where the user logged in within 30
 * days: else anyone who knows a username could keep its owner locked out.
 */
export const LOGIN_THROTTLE: ThrottleLimits = {
  windowSeconds: 15 * 60,
  perUsernameAndAddress: 5,
  perAddress: 20,
  perUsername: 50,
  knownAddressSeconds: 30 * 24 * 3600,
};

/**
 * Wrong current passwords on POST /auth/password: a stolen access token buys
 * five guesses per user per window, from any number of addresses, known or not.
 */
export const PASSWORD_THROTTLE: ThrottleLimits = {
  ...LOGIN_THROTTLE,
  perUsername: 5,
  knownAddressSeconds: 0,
};

/**
 * Given, for each scope, the timestamp of its n-th most recent failure inside
 * the window (n being that scope's limit; null when there are fewer), returns
 * how many seconds until every scope is back under its limit, or 0 when the
 * attempt may go ahead.
 */
export function retryAfterSeconds(
  limitReachedAt: Array<Date | null>,
  now: Date,
  windowSeconds: number = LOGIN_THROTTLE.windowSeconds,
): number {
  let wait = 0;
  for (const at of limitReachedAt) {
    if (!at) continue;
    const remainingMs = at.getTime() + windowSeconds * 1000 - now.getTime();
    if (remainingMs > 0) wait = Math.max(wait, Math.ceil(remainingMs / 1000));
  }
  return wait;
}
