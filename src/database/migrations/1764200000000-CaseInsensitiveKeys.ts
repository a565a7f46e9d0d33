import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usernames and national ids are unique whatever their letter case, compared
 * the way the service compares them (usernameKey): A-Z lowered, in any
 * database locale (COLLATE "C"), so that `NID1` and `nid1` are one client.
 */
export class CaseInsensitiveKeys1764200000000 implements MigrationInterface {
  name = 'CaseInsensitiveKeys1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_username_lower_key`);
    await q.query(`CREATE UNIQUE INDEX users_username_key ON users (lower(username COLLATE "C"))`);
    await q.query(`ALTER TABLE clients DROP CONSTRAINT clients_national_id_key`);
    await q.query(
      `CREATE UNIQUE INDEX clients_national_id_key ON clients (lower(national_id COLLATE "C"))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX clients_national_id_key`);
    await q.query(
      `ALTER TABLE clients ADD CONSTRAINT clients_national_id_key UNIQUE (national_id)`,
    );
    await q.query(`DROP INDEX users_username_key`);
    await q.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))`);
  }
}
