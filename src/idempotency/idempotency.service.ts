import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError, problemBody } from '../common/problem';
import { inTransaction } from '../common/transactions';
import { IdempotencyRequest, Replay } from './idempotency';

/** Every money movement answers 201 Created when it succeeds. */
const CREATED = 201;

const NOT_STORED = new Set(['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'FORBIDDEN']);

interface StoredKey {
  route: string;
  request_hash: Buffer;
  response_status: number;
  response_type: string;
  response_body: string;
}

/**
 * Runs a money movement at most once per (user, Idempotency-Key), all in the
 * movement's own transaction:
 *
 * 1. a transaction-scoped advisory lock on the key, taken without waiting:
 *    held, the key's first request is still running (409). PostgreSQL
 *    releases it when the transaction ends, and when its connection dies
 *    with a crashed instance, so a retry after a crash never waits;
 * 2. the key's stored answer, if any, is replayed (or 422 for another body);
 * 3. the work, then its answer stored, in the same transaction: after a
 *    crash either both exist or neither does. A domain refusal (422
 *    INSUFFICIENT_FUNDS...) is stored too: the work is rolled back to a
 *    savepoint and the refusal stored in its place.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly db: DataSource) {}

  /** Without a key, the work's transaction alone. A Replay is the key's stored answer. */
  async run<T extends object>(
    req: IdempotencyRequest,
    work: (em: EntityManager) => Promise<T>,
  ): Promise<T | Replay> {
    if (!req.key) return inTransaction(this.db, work);
    let refusal: ApiError | undefined;
    const answer = await inTransaction(this.db, async (em) => {
      refusal = undefined;
      const [{ free }] = await em.query<Array<{ free: boolean }>>(
        `SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS free`,
        [req.userId, req.key],
      );
      if (!free) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_IN_USE',
          'A request with this Idempotency-Key is still in progress',
        );
      }
      const [stored] = await em.query<StoredKey[]>(
        `SELECT route, request_hash, response_status, response_type, response_body
           FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [req.userId, req.key],
      );
      if (stored) return replayOrRefuse(stored, req);

      await em.query('SAVEPOINT idempotent_work');
      try {
        const body = await work(em);
        await this.store(em, req, CREATED, 'application/json; charset=utf-8', JSON.stringify(body));
        return body;
      } catch (error) {
        // An ended session or a forbidden role is not the request's answer: a retry may succeed.
        if (!(error instanceof ApiError) || NOT_STORED.has(error.code)) throw error;
        await em.query('ROLLBACK TO SAVEPOINT idempotent_work');
        const problem = { code: error.code, detail: error.message, errors: error.extra.errors };
        const body = problemBody(
          problem,
          req.route.slice(req.route.indexOf(' ') + 1),
          req.requestId,
        );
        await this.store(em, req, error.status, 'application/problem+json', JSON.stringify(body));
        refusal = error;
        return null;
      }
    });
    if (refusal) throw refusal;
    return answer as T | Replay;
  }

  private async store(
    em: EntityManager,
    req: IdempotencyRequest,
    status: number,
    type: string,
    body: string,
  ): Promise<void> {
    await em.query(
      `INSERT INTO idempotency_keys (user_id, key, route, request_hash, response_status, response_type, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [req.userId, req.key, req.route, req.hash, status, type, body],
    );
  }
}

/** The stored answer again, or 422 when the key came with another request. */
function replayOrRefuse(stored: StoredKey, req: IdempotencyRequest): Replay {
  if (stored.route !== req.route || !stored.request_hash.equals(req.hash)) {
    throw new ApiError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used with another request; use a new key for a new request',
    );
  }
  return new Replay(stored.response_status, stored.response_type, stored.response_body);
}
