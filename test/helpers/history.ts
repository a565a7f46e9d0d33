/**
 * A long history written straight into the database, for tests that need an
 * account whose statement is megabytes long: `count` deposits of 1.00, one
 * microsecond apart from the account's opening, its balance and operation
 * count moved with them, so every money rule holds.
 */
export type Run = (sql: string, params: unknown[]) => Promise<unknown>;

export async function seedDeposits(
  run: Run,
  accountId: string,
  count: number,
  performedBy: string,
): Promise<void> {
  await run(
    `WITH acct AS (SELECT id, opened_at, balance FROM accounts WHERE id = $1 AND balance = 0),
          ops AS (
       INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by, created_at)
       SELECT acct.id, 'credit', 'deposit', 100, 100 * i, 'Seeded deposit number ' || i, $3,
              acct.opened_at + make_interval(secs => i / 1000000.0)
         FROM acct, generate_series(1, $2::int) i
       RETURNING 1)
     UPDATE accounts SET balance = 100 * $2::bigint, operation_count = $2
      WHERE id = (SELECT id FROM acct) AND (SELECT count(*) FROM ops) = $2`,
    [accountId, count, performedBy],
  );
}
