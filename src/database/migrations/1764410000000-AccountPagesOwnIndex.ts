import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The bank-wide (created_at, seq) index becomes partial, `WHERE seq > 0`, a
 * condition that only the bank-wide list of operations states, so that no
 * statement of one account can be planned on it. Planned on it, an account
 * that holds a large share of the ledger, all of it older than the rest,
 * had its newest page found by walking every newer operation of the bank
 * backwards: the planner took the account's share for an even spread. On
 * its own index, (account_id, created_at, seq), an account's page reads its
 * rows and nothing else, whatever its share and however its history lies.
 *
 * seq is an identity from 1, so the index still holds every operation. No
 * account statement implies the predicate: they bound seq only inside row
 * comparisons, (created_at, seq) > (..., $n), which the planner does not
 * use to prove an index predicate. The new index is built before the old
 * one is dropped, so reads keep an index meanwhile.
 */
export class AccountPagesOwnIndex1764410000000 implements MigrationInterface {
  name = 'AccountPagesOwnIndex1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      // IF NOT EXISTS: on a large ledger an operator may have built it beforehand, CONCURRENTLY.
      `CREATE INDEX IF NOT EXISTS operations_bank_created_seq_idx ON operations (created_at, seq) WHERE seq > 0`,
    );
    await q.query(`DROP INDEX operations_created_seq_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX operations_created_seq_idx ON operations (created_at, seq)`);
    await q.query(`DROP INDEX operations_bank_created_seq_idx`);
  }
}
