import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every list and statement reads the rows it shows through an index in the
 * order it shows them, whatever the size of the ledger or of one account:
 *
 * - accounts.operation_count is kept by every movement in the statement that
 *   already updates the account, so an account's total needs no count;
 * - operations are read newest (or oldest) first by (created_at, seq), per
 *   account and bank-wide, so keyset pages and streamed statements are index
 *   range scans;
 * - the staff lists of accounts, clients and users page in index order.
 *
 * Helper functions format money, instants and CSV cells in SQL, for statements
 * that PostgreSQL writes out batch by batch.
 */
export class LedgerAtScale1764000000000 implements MigrationInterface {
  name = 'LedgerAtScale1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ADD COLUMN operation_count bigint NOT NULL DEFAULT 0`);
    await q.query(`
      UPDATE accounts a SET operation_count = c.n
        FROM (SELECT account_id, count(*) AS n FROM operations GROUP BY account_id) c
       WHERE c.account_id = a.id`);

    await q.query(
      `CREATE INDEX operations_account_created_seq_idx ON operations (account_id, created_at, seq)`,
    );
    await q.query(`DROP INDEX operations_account_seq_idx`);
    await q.query(`DROP INDEX operations_account_created_idx`);
    await q.query(`CREATE INDEX operations_created_seq_idx ON operations (created_at, seq)`);
    await q.query(`DROP INDEX operations_created_at_idx`);

    await q.query(`CREATE INDEX accounts_opened_at_id_idx ON accounts (opened_at, id)`);
    await q.query(`CREATE INDEX clients_name_id_idx ON clients (last_name, first_name, id)`);
    await q.query(`CREATE INDEX users_created_at_id_idx ON users (created_at, id)`);

    // Cents as the API writes money: "-12.34".
    await q.query(`
      CREATE FUNCTION money_text(cents bigint) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN CASE WHEN cents < 0 THEN '-' ELSE '' END
               || (abs(cents) / 100)::text || '.' || lpad((abs(cents) % 100)::text, 2, '0')`);
    // An instant as JavaScript's toISOString writes it (milliseconds, UTC).
    await q.query(`
      CREATE FUNCTION iso_instant(at timestamptz) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
    // An RFC 4180 cell, quoted when it holds a quote, comma or line break.
    await q.query(`
      CREATE FUNCTION csv_quote(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN CASE WHEN value ~ '[",\\r\\n]' THEN '"' || replace(value, '"', '""') || '"' ELSE value END`);
    // A text cell of a CSV download: a leading = + - @ tab or CR is neutralised with a quote
    // mark, so that spreadsheets do not run it as a formula; NULL is an empty cell.
    await q.query(`
      CREATE FUNCTION csv_cell(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN csv_quote(CASE WHEN value ~ '^[=+@\\t\\r-]' THEN '''' || value ELSE coalesce(value, '') END)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION csv_cell(text)`);
    await q.query(`DROP FUNCTION csv_quote(text)`);
    await q.query(`DROP FUNCTION iso_instant(timestamptz)`);
    await q.query(`DROP FUNCTION money_text(bigint)`);
    await q.query(`DROP INDEX users_created_at_id_idx`);
    await q.query(`DROP INDEX clients_name_id_idx`);
    await q.query(`DROP INDEX accounts_opened_at_id_idx`);
    await q.query(`CREATE INDEX operations_created_at_idx ON operations (created_at)`);
    await q.query(`DROP INDEX operations_created_seq_idx`);
    await q.query(
      `CREATE INDEX operations_account_created_idx ON operations (account_id, created_at)`,
    );
    await q.query(`CREATE INDEX operations_account_seq_idx ON operations (account_id, seq)`);
    await q.query(`DROP INDEX operations_account_created_seq_idx`);
    await q.query(`ALTER TABLE accounts DROP COLUMN operation_count`);
  }
}
