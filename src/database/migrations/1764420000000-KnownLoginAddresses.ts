import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The addresses each username last logged in from successfully, and when:
 * the per-username login limit spares an address where its owner logged in
 * within 30 days, so that failures from elsewhere cannot lock the owner out.
 * Keyed by the throttle's username key; pruned after 30 days.
 */
export class KnownLoginAddresses1764420000000 implements MigrationInterface {
  name = 'KnownLoginAddresses1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_successes (
        username varchar(150) NOT NULL,
        ip varchar(64) NOT NULL,
        last_success_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT login_successes_pkey PRIMARY KEY (username, ip)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE login_successes`);
  }
}
