import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/problem';
import { LOGIN_THROTTLE, retryAfterSeconds } from './throttle-window';

/**
 * Counts failed logins in the database, so every instance sees the same
 * counts, over a sliding window per (username, address), per address and per
 * username. A success does not erase failures.
 */
@Injectable()
export class LoginThrottleService {
  constructor(private readonly db: DataSource) {}

  /** Throws 429 with Retry-After when any limit is reached. */
  async check(username: string, ip: string): Promise<void> {
    const { windowSeconds: w, perUsernameAndAddress, perAddress, perUsername } = LOGIN_THROTTLE;
    const rows: Array<{ pair: Date | null; address: Date | null; name: Date | null; now: Date }> =
      await this.db.query(
        `SELECT
           (SELECT created_at FROM login_failures
             WHERE username = $1 AND ip = $2 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $4 LIMIT 1) AS pair,
           (SELECT created_at FROM login_failures
             WHERE ip = $2 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $5 LIMIT 1) AS address,
           (SELECT created_at FROM login_failures
             WHERE username = $1 AND created_at > now() - make_interval(secs => $3)
             ORDER BY created_at DESC OFFSET $6 LIMIT 1) AS name,
           now() AS now`,
        [key(username), ip, w, perUsernameAndAddress - 1, perAddress - 1, perUsername - 1],
      );
    const { pair, address, name, now } = rows[0];
    const wait = retryAfterSeconds([pair, address, name], now, w);
    if (wait > 0) {
      throw new ApiError('TOO_MANY_REQUESTS', `Too many failed logins; retry in ${wait} s`, {
        headers: { 'retry-after': String(wait) },
      });
    }
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    await this.db.query(`INSERT INTO login_failures (username, ip) VALUES ($1, $2)`, [
      key(username),
      ip,
    ]);
  }
}

const key = (username: string) => username.toLowerCase().slice(0, 150);
