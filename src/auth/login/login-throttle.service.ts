import { Prunable } from '../../common/prunable';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../../common/problem';
import { inTransaction } from '../../common/transactions';
import { LoginFailuresRepository } from './login-failures.repository';
import { usernameKey } from '../../identity/username';
import { LOGIN_THROTTLE, retryAfterSeconds, ThrottleLimits } from './throttle-window';

/** An attempt that `begin` let through, recorded as a failure until `succeeded`. */
export interface ThrottledAttempt {
  id: string;
  name: string;
  ip: string;
  limits: ThrottleLimits;
}

/**
 * Counts failed logins in the database, so every instance sees the same
 * counts, over a sliding window per (username, address), per address and per
 * username. A success does not erase failures; it makes its address known,
 * and the per-username limit does not apply from a known address.
 *
 * An attempt is recorded as a failure before its password is checked, in the
 * same transaction as the decision, under advisory locks on its username and
 * address: of thirty parallel guesses, the sixth already sees five. A
 * success then removes its own record, and only its own.
 */
@Injectable()
export class LoginThrottleService implements Prunable {
  constructor(
    private readonly db: DataSource,
    private readonly failures: LoginFailuresRepository,
  ) {}

  /**
   * Failures older than the throttling window, and addresses of successful
   * logins older than the days they are known for.
   */
  async prune(): Promise<Record<string, number>> {
    return {
      login_failures: await this.failures.deleteOlderThan(LOGIN_THROTTLE.windowSeconds),
      login_successes: await this.failures.deleteSuccessesOlderThan(
        LOGIN_THROTTLE.knownAddressSeconds,
      ),
    };
  }

  /**
   * 429 with Retry-After when any limit is reached; else the attempt,
   * recorded as a failure until `succeeded` says otherwise.
   * `scope` names what is guessed: a username, or another secret's owner.
   */
  async begin(
    scope: string,
    ip: string,
    limits: ThrottleLimits = LOGIN_THROTTLE,
  ): Promise<ThrottledAttempt> {
    const name = usernameKey(scope).slice(0, 150);
    const { windowSeconds: w, perUsernameAndAddress, perAddress, perUsername } = limits;
    return inTransaction(this.db, async (em) => {
      await this.failures.lock(em, name, ip);
      const latest = await this.failures.nthLatest(
        em,
        name,
        ip,
        w,
        [perUsernameAndAddress, perAddress, perUsername],
        limits.knownAddressSeconds,
      );
      // From an address where the user logged in recently only the per-address limits hold:
      // failures from elsewhere must not lock the owner out.
      const username = latest.known ? null : latest.username;
      const wait = retryAfterSeconds([latest.pair, latest.address, username], latest.now, w);
      if (wait > 0) {
        throw new ApiError('TOO_MANY_REQUESTS', `Too many failed attempts; retry in ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      return { id: await this.failures.insert(em, name, ip), name, ip, limits };
    });
  }

  /** The attempt succeeded: it is no failure, and its address becomes known where the limits say so. */
  succeeded(attempt: ThrottledAttempt): Promise<void> {
    if (attempt.limits.knownAddressSeconds === 0) return this.failures.delete(attempt.id);
    return this.failures.recordSuccess(attempt.id, attempt.name, attempt.ip);
  }
}
