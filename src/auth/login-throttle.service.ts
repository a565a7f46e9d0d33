import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/problem';
import { inTransaction } from '../common/transactions';
import { usernameKey } from '../users/username';
import { LOGIN_THROTTLE, retryAfterSeconds, ThrottleLimits } from './throttle-window';

/**
 * Counts failed logins in the database, so every instance sees the same
 * counts, over a sliding window per (username, address), per address and per
 * username. A success does not erase failures.
 *
 * An attempt is recorded as a failure before its password is checked, in the
 * same transaction as the decision, under advisory locks on its username and
 * address: of thirty parallel guesses, the sixth already sees five. A
 * success then removes its own record, and only its own.
 */
@Injectable()
export class LoginThrottleService {
  constructor(private readonly db: DataSource) {}

  /**
   * 429 with Retry-After when any limit is reached; else the id of the
   * attempt, recorded as a failure until `succeeded` says otherwise.
   * `scope` names what is guessed: a username, or another secret's owner.
   */
  async begin(scope: string, ip: string, limits: ThrottleLimits = LOGIN_THROTTLE): Promise<string> {
    const name = usernameKey(scope).slice(0, 150);
    const { windowSeconds: w, perUsernameAndAddress, perAddress, perUsername } = limits;
    return inTransaction(this.db, async (em) => {
      // One order for every request (username, then address), so two cannot deadlock.
      await em.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('login-name:' || $1, 0)),
                pg_advisory_xact_lock(hashtextextended('login-address:' || $2, 0))`,
        [name, ip],
      );
      // A statement of its own: its snapshot is taken after the locks, so it sees every
      // attempt recorded by a request that held them before.
      const [counted] = await em.query<
        Array<{ pair: Date | null; address: Date | null; username: Date | null; now: Date }>
      >(
        `SELECT
           (SELECT created_at FROM login_failures
             WHERE username = $1 AND ip = $2 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $4 LIMIT 1) AS pair,
           (SELECT created_at FROM login_failures
             WHERE ip = $2 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $5 LIMIT 1) AS address,
           (SELECT created_at FROM login_failures
             WHERE username = $1 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $6 LIMIT 1) AS username,
           now() AS now`,
        [name, ip, w, perUsernameAndAddress - 1, perAddress - 1, perUsername - 1],
      );
      const wait = retryAfterSeconds(
        [counted.pair, counted.address, counted.username],
        counted.now,
        w,
      );
      if (wait > 0) {
        throw new ApiError('TOO_MANY_REQUESTS', `Too many failed attempts; retry in ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      const [attempt] = await em.query<Array<{ id: string }>>(
        `INSERT INTO login_failures (username, ip) VALUES ($1, $2) RETURNING id`,
        [name, ip],
      );
      return attempt.id;
    });
  }

  /** The attempt succeeded: it is no failure. */
  async succeeded(attempt: string): Promise<void> {
    await this.db.query(`DELETE FROM login_failures WHERE id = $1`, [attempt]);
  }
}
