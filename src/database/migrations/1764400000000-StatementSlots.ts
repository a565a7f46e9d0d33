import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-user slots of streaming statements, counted across instances (StatementSlot). */
export class StatementSlots1764400000000 implements MigrationInterface {
  name = 'StatementSlots1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE statement_slots (
      user_id uuid NOT NULL,
      slot smallint NOT NULL,
      holder uuid NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, slot))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE statement_slots`);
  }
}
