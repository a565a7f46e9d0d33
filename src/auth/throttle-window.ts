export interface ThrottleLimits {
  windowSeconds: number;
  perUsernameAndAddress: number;
  perAddress: number;
  perUsername: number;
}

/** Failed-login limits, each over the same sliding window. */
export const LOGIN_THROTTLE: ThrottleLimits = {
  windowSeconds: 15 * 60,
  perUsernameAndAddress: 5,
  perAddress: 20,
  perUsername: 50,
};

/**
 * Wrong current passwords on POST /auth/password: a stolen access token buys
 * five guesses per user per window, from any number of addresses.
 */
export const PASSWORD_THROTTLE: ThrottleLimits = { ...LOGIN_THROTTLE, perUsername: 5 };

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
