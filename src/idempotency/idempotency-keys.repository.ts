import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A key's stored first answer, and what it was the answer to. */
export interface StoredKey {
  user_id: string;
  key: string;
  route: string;
  request_hash: Buffer;
  response_status: number;
  response_type: string;
  response_body: string;
}

/**
 * The Idempotency-Key statements. All but the pruning run on the connection
 * of the money movement's own transaction: the key's lock, its stored answer
 * and the movement commit or vanish together. Plain statements rather than
 * TypeORM's Repository, on that transaction's EntityManager, because the
 * lock and the savepoints are statements anyway.
 */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * A transaction-scoped advisory lock on (user, key), taken without
   * waiting: false while another transaction holds it. PostgreSQL releases
   * it at commit or rollback, and when the connection of a crashed instance
   * dies, so a retry never waits for a dead request.
   */
  async tryLock(em: EntityManager, userId: string, key: string): Promise<boolean> {
    const [{ free }] = await em.query<Array<{ free: boolean }>>(
      `SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS free`,
      [userId, key],
    );
    return free;
  }

  /** The key's stored answer. Under tryLock, no other request can be storing one. */
  async find(em: EntityManager, userId: string, key: string): Promise<StoredKey | undefined> {
    const [stored] = await em.query<StoredKey[]>(
      `SELECT user_id, key, route, request_hash, response_status, response_type, response_body
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    return stored;
  }

  async insert(em: EntityManager, k: StoredKey): Promise<void> {
    await em.query(
      `INSERT INTO idempotency_keys (user_id, key, route, request_hash, response_status, response_type, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        k.user_id,
        k.key,
        k.route,
        k.request_hash,
        k.response_status,
        k.response_type,
        k.response_body,
      ],
    );
  }

  /** Marks where the work starts, so a refusal can undo it and still store the answer. */
  async savepoint(em: EntityManager): Promise<void> {
    await em.query('SAVEPOINT idempotent_work');
  }

  async rollbackToSavepoint(em: EntityManager): Promise<void> {
    await em.query('ROLLBACK TO SAVEPOINT idempotent_work');
  }

  /** Deletes keys older than 24 hours, as long as the contract keeps them; answers how many. */
  async deleteExpired(): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>(
      `DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`,
    );
    return count;
  }
}
