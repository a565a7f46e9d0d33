import { Prunable } from '../common/prunable';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError, problemBody } from '../common/problem';
import { inTransaction } from '../common/transactions';
import { IdempotencyRequest, Replay } from './idempotency';
import { IdempotencyKeysRepository, StoredKey } from './idempotency-keys.repository';

/** Every money movement answers 201 Created when it succeeds. */
const CREATED = 201;

const NOT_STORED = new Set(['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'FORBIDDEN']);

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
export class IdempotencyService implements Prunable {
  constructor(
    private readonly db: DataSource,
    private readonly keys: IdempotencyKeysRepository,
  ) {}

  /** Keys past the 24 hours they are kept. */
  async prune(): Promise<Record<string, number>> {
    return { idempotency_keys: await this.keys.deleteExpired() };
  }

  /** Without a key, the work's transaction alone. A Replay is the key's stored answer. */
  async run<T extends object>(
    req: IdempotencyRequest,
    work: (em: EntityManager) => Promise<T>,
  ): Promise<T | Replay> {
    if (!req.key) return inTransaction(this.db, work);
    let refusal: ApiError | undefined;
    const answer = await inTransaction(this.db, async (em) => {
      refusal = undefined;
      if (!(await this.keys.tryLock(em, req.userId, req.key!))) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_IN_USE',
          'A request with this Idempotency-Key is still in progress',
        );
      }
      const stored = await this.keys.find(em, req.userId, req.key!);
      if (stored) return replayOrRefuse(stored, req);

      await this.keys.savepoint(em);
      try {
        const body = await work(em);
        await this.store(em, req, CREATED, 'application/json; charset=utf-8', JSON.stringify(body));
        return body;
      } catch (error) {
        // An ended session or a forbidden role is not the request's answer: a retry may succeed.
        if (!(error instanceof ApiError) || NOT_STORED.has(error.code)) throw error;
        await this.keys.rollbackToSavepoint(em);
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

  private store(
    em: EntityManager,
    req: IdempotencyRequest,
    status: number,
    type: string,
    body: string,
  ): Promise<void> {
    return this.keys.insert(em, {
      user_id: req.userId,
      key: req.key!,
      route: req.route,
      request_hash: req.hash,
      response_status: status,
      response_type: type,
      response_body: body,
    });
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
