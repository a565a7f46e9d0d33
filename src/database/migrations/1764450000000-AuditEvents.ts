import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (src/audit): one row per change or authentication event,
 * written in the transaction of what it records, then sealed into a hash
 * chain by AuditSealer (seq, prev_hash, hash). A trigger refuses every
 * UPDATE but that sealing one, every DELETE and TRUNCATE. audit_chain_head
 * holds the last sealed seq and hash, so removing the newest events is seen
 * too. No foreign keys: an event outlives whatever it names.
 */
export class AuditEvents1764450000000 implements MigrationInterface {
  name = 'AuditEvents1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
        seq bigint UNIQUE,
        type varchar(64) NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        actor_id uuid,
        actor_username varchar(150),
        actor_role varchar(16),
        subject_type varchar(32),
        subject_id varchar(64),
        outcome varchar(16) NOT NULL DEFAULT 'succeeded'
          CHECK (outcome IN ('succeeded', 'failed', 'refused')),
        reason varchar(64),
        ip varchar(64),
        user_agent varchar(512),
        request_id varchar(128),
        data jsonb NOT NULL DEFAULT '{}',
        prev_hash char(64),
        hash char(64),
        CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL))
      )`);
    await q.query(`CREATE INDEX audit_events_unsealed_idx ON audit_events (pos) WHERE seq IS NULL`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, pos)`);
    await q.query(`CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, pos)`);
    await q.query(`CREATE INDEX audit_events_type_idx ON audit_events (type, pos)`);
    await q.query(`CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, pos)`);
    await q.query(`
      CREATE TABLE audit_chain_head (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq bigint NOT NULL,
        hash char(64) NOT NULL
      )`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND (NEW.pos, NEW.id, NEW.type, NEW.occurred_at, NEW.actor_id, NEW.actor_username,
                NEW.actor_role, NEW.subject_type, NEW.subject_id, NEW.outcome, NEW.reason, NEW.ip,
                NEW.user_agent, NEW.request_id, NEW.data)
               IS NOT DISTINCT FROM
               (OLD.pos, OLD.id, OLD.type, OLD.occurred_at, OLD.actor_id, OLD.actor_username,
                OLD.actor_role, OLD.subject_type, OLD.subject_id, OLD.outcome, OLD.reason, OLD.ip,
                OLD.user_agent, OLD.request_id, OLD.data) THEN
            RETURN NEW;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_chain_head`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
  }
}
