import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * For each limit (per username and address, per address, per username): the
 * time of the failure that reached it within the window (null: not
 * reached); whether the username logged in successfully from the address
 * recently; and the database's now.
 */
export interface LatestFailures {
  pair: Date | null;
  address: Date | null;
  username: Date | null;
  known: boolean;
  now: Date;
}

/**
 * The login throttle's SQL: failed logins, and the addresses of successful
 * ones. Counting and recording happen in one transaction under lock(): two
 * concurrent attempts on the same username or address are serial, so the
 * sixth of thirty parallel guesses sees five. The windows are measured with
 * the database's clock, which every instance shares.
 */
@Injectable()
export class LoginFailuresRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Transaction-scoped advisory locks on the username and the address, in
   * one order for every request (username, then address), so two cannot
   * deadlock.
   */
  async lock(em: EntityManager, username: string, ip: string): Promise<void> {
    await em.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('login-name:' || $1, 0)),
              pg_advisory_xact_lock(hashtextextended('login-address:' || $2, 0))`,
      [username, ip],
    );
  }

  /**
   * The failures that reached each limit of `limits` [pair, address,
   * username] within the last `window` seconds, and whether the username
   * logged in successfully from the address within `knownFor` seconds (never
   * when 0). A statement of its own, after lock(): its snapshot sees every
   * attempt recorded by a request that held the locks before.
   */
  async nthLatest(
    em: EntityManager,
    username: string,
    ip: string,
    window: number,
    limits: [number, number, number],
    knownFor: number,
  ): Promise<LatestFailures> {
    const [latest] = await em.query<LatestFailures[]>(
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
         $7 > 0 AND EXISTS (SELECT 1 FROM login_successes
           WHERE username = $1 AND ip = $2 AND last_success_at > now() - make_interval(secs => $7)) AS known,
         now() AS now`,
      [username, ip, window, limits[0] - 1, limits[1] - 1, limits[2] - 1, knownFor],
    );
    return latest;
  }

  /** Records an attempt as a failure; answers its id. */
  async insert(em: EntityManager, username: string, ip: string): Promise<string> {
    const [attempt] = await em.query<Array<{ id: string }>>(
      `INSERT INTO login_failures (username, ip) VALUES ($1, $2) RETURNING id`,
      [username, ip],
    );
    return attempt.id;
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM login_failures WHERE id = $1`, [id]);
  }

  /**
   * The attempt `id` succeeded: it is no failure, and its address is known
   * for the username from now on. One statement, so both happen or neither.
   */
  async recordSuccess(id: string, username: string, ip: string): Promise<void> {
    await this.db.query(
      `WITH attempt AS (DELETE FROM login_failures WHERE id = $1)
       INSERT INTO login_successes (username, ip) VALUES ($2, $3)
       ON CONFLICT (username, ip) DO UPDATE SET last_success_at = now()`,
      [id, username, ip],
    );
  }

  /** Deletes failures older than `window` seconds, which no limit counts; answers how many. */
  async deleteOlderThan(window: number): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM login_failures WHERE created_at < now() - make_interval(secs => $1)`,
      [window],
    );
    return count;
  }

  /** Forgets addresses last logged in from more than `knownFor` seconds ago; answers how many. */
  async deleteSuccessesOlderThan(knownFor: number): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM login_successes WHERE last_success_at < now() - make_interval(secs => $1)`,
      [knownFor],
    );
    return count;
  }
}
