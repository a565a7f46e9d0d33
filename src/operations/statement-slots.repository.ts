import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface HeldSlot {
  userId: string;
  slot: number;
  holder: string;
}

/**
 * The SQL of statement slots (StatementSlot). Every statement is one
 * autocommitted statement: nothing is held between them.
 */
@Injectable()
export class StatementSlotsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Takes the lowest of the user's slots 1..`limit` that is free (never
   * taken, or its lease over) for `holder`, for `leaseSeconds`; answers its
   * number, or null when none was free to this statement. Two claims that
   * chose the same slot meet on its primary key: the second waits for the
   * first, then finds the slot's new lease running and takes nothing (ON
   * CONFLICT re-reads the row it waited for), so a slot is never held twice.
   */
  async claim(
    userId: string,
    limit: number,
    holder: string,
    leaseSeconds: number,
  ): Promise<number | null> {
    const rows = await this.db.query<Array<{ slot: number }>>(
      `INSERT INTO statement_slots (user_id, slot, holder, expires_at)
       SELECT $1, s, $3, now() + make_interval(secs => $4)
         FROM generate_series(1, $2::int) s
        WHERE NOT EXISTS (SELECT 1 FROM statement_slots t
                           WHERE t.user_id = $1 AND t.slot = s AND t.expires_at > now())
        ORDER BY s LIMIT 1
       ON CONFLICT (user_id, slot) DO UPDATE
         SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE statement_slots.expires_at <= now()
       RETURNING slot`,
      [userId, limit, holder, leaseSeconds],
    );
    return rows[0]?.slot ?? null;
  }

  /** Extends the leases of these slots, of those their holders still hold (by primary key). */
  async renew(slots: HeldSlot[], leaseSeconds: number): Promise<void> {
    await this.db.query(
      `UPDATE statement_slots t SET expires_at = now() + make_interval(secs => $4)
         FROM unnest($1::uuid[], $2::int[], $3::uuid[]) h(user_id, slot, holder)
        WHERE t.user_id = h.user_id AND t.slot = h.slot AND t.holder = h.holder`,
      [
        slots.map((s) => s.userId),
        slots.map((s) => s.slot),
        slots.map((s) => s.holder),
        leaseSeconds,
      ],
    );
  }

  /** Frees a slot, if its holder still holds it. */
  async release({ userId, slot, holder }: HeldSlot): Promise<void> {
    await this.db.query(
      `DELETE FROM statement_slots WHERE user_id = $1 AND slot = $2 AND holder = $3`,
      [userId, slot, holder],
    );
  }

  /** Deletes slots whose lease is over (free already); answers how many. */
  async deleteExpired(): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM statement_slots WHERE expires_at <= now()`,
    );
    return count;
  }
}
