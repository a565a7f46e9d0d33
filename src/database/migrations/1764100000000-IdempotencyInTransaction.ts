import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An Idempotency-Key is held by a transaction-scoped advisory lock while its
 * request runs, and written only with its answer, in the same transaction:
 * the in-flight claim rows of before go, with their state, owner and lock
 * time. A claim left in flight belongs to a request that has ended.
 */
export class IdempotencyInTransaction1764100000000 implements MigrationInterface {
  name = 'IdempotencyInTransaction1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM idempotency_keys WHERE state <> 'done'`);
    await q.query(`ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check`);
    await q.query(
      `ALTER TABLE idempotency_keys DROP COLUMN state, DROP COLUMN owner, DROP COLUMN locked_at`,
    );
    await q.query(`ALTER TABLE idempotency_keys
      ALTER COLUMN response_status SET NOT NULL,
      ALTER COLUMN response_type SET NOT NULL,
      ALTER COLUMN response_body SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_keys
      ALTER COLUMN response_status DROP NOT NULL,
      ALTER COLUMN response_type DROP NOT NULL,
      ALTER COLUMN response_body DROP NOT NULL`);
    await q.query(`ALTER TABLE idempotency_keys
      ADD COLUMN owner uuid NOT NULL DEFAULT gen_random_uuid(),
      ADD COLUMN state varchar(9) NOT NULL DEFAULT 'done',
      ADD COLUMN locked_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(
      `ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_flight', 'done'))`,
    );
    await q.query(`ALTER TABLE idempotency_keys ALTER COLUMN state SET DEFAULT 'in_flight'`);
  }
}
