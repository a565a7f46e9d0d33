import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room for statuses longer than eight letters (`suspended`,
 * `pending_kyc`...): a longer varchar needs no table rewrite, though the
 * status constraints are checked again under the table's lock
 * (docs/operations.md, upgrading). A new
 * status also replaces accounts_status_check, whose list is
 * ACCOUNT_STATUSES in accounts/account-status.ts.
 */
export class WiderAccountStatus1764430000000 implements MigrationInterface {
  name = 'WiderAccountStatus1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ALTER COLUMN status TYPE varchar(16)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ALTER COLUMN status TYPE varchar(8)`);
  }
}
