import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError, problemBody } from '../common/problem';
import { inTransaction } from '../common/transactions';
import { IdempotencyRequest, ReplayedResponse } from './idempotency';

/** Every money movement answers 201 Created when it succeeds. */
const CREATED = 201;

const NOT_STORED = new Set(['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'FORBIDDEN']);

interface Claim {
  id: string;
  owner: string;
}

/** An in-flight key older than this is taken to belong to a request that died with its instance. */
const ABANDONED_AFTER_SECONDS = 60;

/**
 * Runs a money movement at most once per (user, Idempotency-Key). The key is
 * claimed (committed as in flight) before the work; the answer is stored in
 * the same transaction as the movement, so after a crash either both exist or
 * neither does. A domain refusal (422 INSUFFICIENT_FUNDS...) is stored too.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly db: DataSource) {}

  /** Without a key, the work's transaction alone; a success is stored as 201. */
  async run<T extends object>(
    req: IdempotencyRequest,
    work: (em: EntityManager) => Promise<T>,
  ): Promise<T> {
    if (!req.key) return inTransaction(this.db, work);
    const claim = await this.claim(req);
    try {
      return await inTransaction(this.db, async (em) => {
        const body = await work(em);
        await this.complete(
          em,
          claim,
          CREATED,
          'application/json; charset=utf-8',
          JSON.stringify(body),
        );
        return body;
      });
    } catch (error) {
      // An ended session or a forbidden role is not the request's answer: a retry may succeed.
      if (error instanceof ApiError && !NOT_STORED.has(error.code)) {
        const problem = { code: error.code, detail: error.message, errors: error.extra.errors };
        const body = problemBody(
          problem,
          req.route.slice(req.route.indexOf(' ') + 1),
          req.requestId,
        );
        await this.complete(
          this.db.manager,
          claim,
          error.status,
          'application/problem+json',
          JSON.stringify(body),
        );
      } else {
        // Unexpected (database down...): nothing happened, so a retry may run it.
        await this.db.query(
          `DELETE FROM idempotency_keys WHERE id = $1 AND owner = $2 AND state = 'in_flight'`,
          [claim.id, claim.owner],
        );
      }
      throw error;
    }
  }

  private async claim(req: IdempotencyRequest): Promise<Claim> {
    const owner = randomUUID();
    const inserted = await this.db.query<Array<{ id: string }>>(
      `INSERT INTO idempotency_keys (user_id, key, route, request_hash, owner) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING id`,
      [req.userId, req.key, req.route, req.hash, owner],
    );
    if (inserted.length === 1) return { id: inserted[0].id, owner };

    const [row] = await this.db.query<
      Array<{
        id: string;
        route: string;
        request_hash: Buffer;
        state: string;
        response_status: number;
        response_type: string;
        response_body: string;
        abandoned: boolean;
      }>
    >(
      `SELECT id, route, request_hash, state, response_status, response_type, response_body,
              locked_at < now() - make_interval(secs => $3) AS abandoned
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [req.userId, req.key, ABANDONED_AFTER_SECONDS],
    );
    if (!row) return this.claim(req); // pruned in between
    if (row.route !== req.route || !row.request_hash.equals(req.hash)) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used with another request; use a new key for a new request',
      );
    }
    if (row.state === 'done')
      throw new ReplayedResponse(row.response_status, row.response_type, row.response_body);
    if (row.abandoned) {
      const taken = await this.db.query<[unknown[], number]>(
        `UPDATE idempotency_keys SET owner = $2, locked_at = now()
          WHERE id = $1 AND state = 'in_flight' AND locked_at < now() - make_interval(secs => $3) RETURNING id`,
        [row.id, owner, ABANDONED_AFTER_SECONDS],
      );
      if (taken[0].length === 1) return { id: row.id, owner };
    }
    throw new ApiError(
      'IDEMPOTENCY_KEY_IN_USE',
      'A request with this Idempotency-Key is still in progress',
    );
  }

  /** Stores the answer; only the claim's owner can, so a taken-over request rolls back. */
  private async complete(
    em: EntityManager,
    claim: Claim,
    status: number,
    type: string,
    body: string,
  ): Promise<void> {
    const [, updated] = await em.query<[unknown[], number]>(
      `UPDATE idempotency_keys SET state = 'done', response_status = $3, response_type = $4, response_body = $5
        WHERE id = $1 AND owner = $2 AND state = 'in_flight'`,
      [claim.id, claim.owner, status, type, body],
    );
    if (updated !== 1) throw new Error('The idempotency key was taken over by another request');
  }
}
