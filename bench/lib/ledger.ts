/** The money rules, checked after a benchmark has written. */
import { api } from './api';
import { Service } from './service';
import { sql } from './settings';

/** Accounts whose balance is not the sum of their operations (in SQL). */
export async function ledgerProblems(db: string): Promise<number> {
  const [row] = await sql<{ n: string }>(
    `SELECT count(*) AS n FROM accounts a
      WHERE a.balance <> coalesce((SELECT sum(CASE WHEN o.type = 'credit' THEN o.amount ELSE -o.amount END)
                                     FROM operations o WHERE o.account_id = a.id), 0)`,
    [],
    db,
  );
  return Number(row.n);
}

const cents = (money: string) => BigInt(money.replace('.', ''));

/** The same check through the API (the embedded database has no other door). */
export async function apiLedgerProblems(
  service: Service,
  token: string,
  accounts: string[],
): Promise<number> {
  let problems = 0;
  for (const id of accounts) {
    const account = await api<{ balance: string }>(
      service,
      'GET',
      `/api/v1/accounts/${id}`,
      undefined,
      token,
    );
    let sum = 0n;
    let cursor: string | null = null;
    do {
      const page: {
        items: Array<{ type: string; amount: string }>;
        nextCursor: string | null;
      } = await api(
        service,
        'GET',
        `/api/v1/accounts/${id}/operations?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        token,
      );
      for (const op of page.items)
        sum += op.type === 'credit' ? cents(op.amount) : -cents(op.amount);
      cursor = page.nextCursor;
    } while (cursor);
    if (sum !== cents(account.balance)) problems++;
  }
  return problems;
}
