/**
 * Sustained contention: two instances of the service on one database, eight
 * hot accounts kept near their limits (four with an overdraft), and 32
 * clients sending transfers, withdrawals and deposits among them for
 * CONTENTION_SECONDS (120 by default), all in one shared teller session.
 * Every answer must be 201 or 422 INSUFFICIENT_FUNDS: a conflict between
 * concurrent movements is the service's to resolve, never the client's. The
 * ledger is checked afterwards.
 *
 * PostgreSQL server only: two instances need a database they can share.
 */
import { DataSource } from 'typeorm';
import { TestApp } from './helpers/app';
import { Account, banking, createTeller } from './helpers/banking';
import { onServer } from './helpers/databases';

const SECONDS = Number(process.env.CONTENTION_SECONDS ?? 120);
const CLIENTS = 32;

/** A small seeded PRNG, so a failing run can be replayed with CONTENTION_SEED. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

(onServer ? describe : describe.skip)('sustained contention on hot accounts', () => {
  let a: TestApp;
  let b: TestApp;
  const bases: string[] = [];

  beforeAll(async () => {
    a = await TestApp.start({ DATABASE_POOL_SIZE: '10' });
    b = await TestApp.start({ DATABASE_POOL_SIZE: '10' }, { database: a.database! });
    for (const t of [a, b]) {
      const server = t.app.getHttpServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      bases.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    }
  }, 60_000);

  afterAll(async () => {
    await b?.app.close();
    await a?.close();
  });

  it(
    `answers only 201 or 422 for ${SECONDS} s, and the ledger holds`,
    async () => {
      const teller = (await createTeller(a, await a.adminToken())).token;
      const bank = banking(a, teller);
      const accounts: Account[] = [];
      for (let i = 0; i < 8; i++) {
        accounts.push(
          await bank.open({ funding: '500.00', overdraftLimit: i % 2 === 0 ? '25.00' : '0.00' }),
        );
      }
      const seed = Number(process.env.CONTENTION_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const random = mulberry32(seed);
      const pick = () => accounts[Math.floor(random() * accounts.length)].id;
      const amount = () => (1 + Math.floor(random() * 6000)) / 100;
      const counts: Record<string, number> = {};
      const unexpected: string[] = [];
      const deadline = Date.now() + SECONDS * 1000;

      const send = async (i: number): Promise<void> => {
        const roll = random();
        let path: string;
        let body: object;
        if (roll < 0.65) {
          const from = pick();
          let to = pick();
          while (to === from) to = pick();
          path = '/api/v1/transfers';
          body = { fromAccountId: from, toAccountId: to, amount: amount().toFixed(2) };
        } else if (roll < 0.9) {
          path = `/api/v1/accounts/${pick()}/withdrawals`;
          body = { amount: amount().toFixed(2) };
        } else {
          path = `/api/v1/accounts/${pick()}/deposits`;
          body = { amount: (amount() * 2).toFixed(2) };
        }
        const res = await fetch(`${bases[i % 2]}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${teller}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = (await res.json()) as { code?: string };
        const key = `${res.status}${answer.code ? ` ${answer.code}` : ''}`;
        counts[key] = (counts[key] ?? 0) + 1;
        if (res.status !== 201 && !(res.status === 422 && answer.code === 'INSUFFICIENT_FUNDS')) {
          unexpected.push(`${path}: ${res.status} ${JSON.stringify(answer)}`);
        }
      };
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let n = 0; Date.now() < deadline; n++) await send(client + n);
        }),
      );
      console.log(`contention for ${SECONDS} s (seed ${seed}):`, counts);
      expect(unexpected.slice(0, 10)).toEqual([]);
      expect(counts['201']).toBeGreaterThan(100);
      expect(counts['422 INSUFFICIENT_FUNDS']).toBeGreaterThan(0);

      const db = a.app.get(DataSource);
      const ids = accounts.map((x) => x.id);
      const [ledger] = await db.query<Array<Record<string, string>>>(
        `SELECT
           (SELECT count(*) FROM accounts a WHERE a.id = ANY($1::uuid[]) AND a.balance <> (
              SELECT coalesce(sum(CASE WHEN o.type = 'credit' THEN o.amount ELSE -o.amount END), 0)
                FROM operations o WHERE o.account_id = a.id)) AS balance_mismatches,
           (SELECT count(*) FROM accounts a WHERE a.id = ANY($1::uuid[])
               AND a.operation_count <> (SELECT count(*) FROM operations o WHERE o.account_id = a.id)) AS count_mismatches,
           (SELECT count(*) FROM (
              SELECT o.balance_after - coalesce(lag(o.balance_after) OVER w, 0)
                       - CASE WHEN o.type = 'credit' THEN o.amount ELSE -o.amount END AS gap
                FROM operations o WHERE o.account_id = ANY($1::uuid[])
              WINDOW w AS (PARTITION BY o.account_id ORDER BY o.created_at, o.seq)) x WHERE gap <> 0) AS broken_chain,
           (SELECT count(*) FROM operations o JOIN accounts a ON a.id = o.account_id
             WHERE a.id = ANY($1::uuid[]) AND o.balance_after < -a.overdraft_limit) AS below_limit,
           (SELECT count(*) FROM (
              SELECT transfer_id FROM operations WHERE kind = 'transfer' AND account_id = ANY($1::uuid[])
               GROUP BY transfer_id
              HAVING count(*) <> 2 OR sum(CASE WHEN type = 'credit' THEN amount ELSE -amount END) <> 0) t) AS unbalanced_transfers`,
        [ids],
      );
      expect(ledger).toEqual({
        balance_mismatches: '0',
        count_mismatches: '0',
        broken_chain: '0',
        below_limit: '0',
        unbalanced_transfers: '0',
      });
    },
    (SECONDS + 60) * 1000,
  );
});
