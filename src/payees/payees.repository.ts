import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AccountStatus } from '../accounts/account-status';
import { HolderName } from './name-match';

/** An account as verification of payee sees it: its status, currency and holders' names. */
export interface PayeeAccount {
  id: string;
  status: AccountStatus;
  currency: string;
  holders: HolderName[];
}

/** The verification that reached the limit within the window (null: not reached), and the database's now. */
export interface LimitReached {
  reachedAt: Date | null;
  now: Date;
}

/**
 * Verification of payee's SQL: the account behind a number, and the
 * verifications each user made. Counting and recording happen in one
 * transaction under lock(): two verifications of one user are serial, on
 * every instance, so the 31st of 31 parallel ones sees 30. The window is
 * measured with the database's clock, which every instance shares.
 */
@Injectable()
export class PayeesRepository {
  constructor(private readonly db: DataSource) {}

  /** The account numbered `number` with its holders (oldest first), or null when none is. */
  async findAccount(number: string, em?: EntityManager): Promise<PayeeAccount | null> {
    const [account] = await (em ?? this.db).query<PayeeAccount[]>(
      `SELECT a.id, a.status, a.currency, coalesce((
         SELECT json_agg(json_build_object('firstName', c.first_name, 'lastName', c.last_name)
                         ORDER BY h.added_at, c.id)
           FROM account_holders h JOIN clients c ON c.id = h.client_id
          WHERE h.account_id = a.id), '[]') AS holders
         FROM accounts a WHERE a.number = $1`,
      [number],
    );
    return account ?? null;
  }

  /** A transaction-scoped advisory lock on the user's verifications. */
  async lock(em: EntityManager, userId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('payee-verify:' || $1, 0))`, [
      userId,
    ]);
  }

  /**
   * The user's `limit`-th latest verification within the last `window`
   * seconds. A statement of its own, after lock(): its snapshot sees every
   * verification recorded by a request that held the lock before.
   */
  async limitReached(
    em: EntityManager,
    userId: string,
    window: number,
    limit: number,
  ): Promise<LimitReached> {
    const [row] = await em.query<LimitReached[]>(
      `SELECT (SELECT created_at FROM payee_verifications
                WHERE user_id = $1 AND created_at > now() - make_interval(secs => $2)
                ORDER BY created_at DESC OFFSET $3 LIMIT 1) AS "reachedAt",
              now() AS now`,
      [userId, window, limit - 1],
    );
    return row;
  }

  async insert(em: EntityManager, userId: string): Promise<void> {
    await em.query(`INSERT INTO payee_verifications (user_id) VALUES ($1)`, [userId]);
  }

  /** Deletes verifications older than `window` seconds, which no limit counts; answers how many. */
  async deleteOlderThan(window: number): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM payee_verifications WHERE created_at < now() - make_interval(secs => $1)`,
      [window],
    );
    return count;
  }
}
