import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { Account, Operation, banking, cents, createTeller, money } from './helpers/banking';
import { onServer } from './helpers/databases';

/**
 * The money rules of the API ("Money rules that hold under any load, on any
 * number of instances", and idempotency) under real concurrency: two app
 * instances on one PostgreSQL database, requests fired at once and spread
 * across both. All money arithmetic is done with BigInt cents.
 */

const TIMEOUT = 120000;

/** A small seeded PRNG, so a failing random mix can be replayed with CONCURRENCY_SEED. */
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

const statusCounts = (responses: Response[]) =>
  responses.reduce<Record<string, number>>((acc, r) => {
    const key = r.status >= 400 ? `${r.status} ${String(r.body?.code)}` : String(r.status);
    acc[key] = (acc[key] ?? 0) + 1;
    return acc;
  }, {});

/** Every 5xx with its body (the request id is in it, to find the server's log line). */
const serverErrors = (responses: Response[]) =>
  responses
    .filter((r) => r.status >= 500)
    .map((r) => ({ status: r.status, body: r.body as unknown }));

(onServer ? describe : describe.skip)(
  'ledger under concurrency (two instances, one database)',
  () => {
    let a: TestApp | undefined;
    let b: TestApp | undefined;
    let token: string;
    let db: DataSource;
    let opened = 0;

    beforeAll(async () => {
      a = await TestApp.start({ DATABASE_POOL_SIZE: '20' });
      b = await TestApp.start({ DATABASE_POOL_SIZE: '20' }, { database: a.database! });
      const admin = await a.adminToken();
      token = (await createTeller(a, admin)).token;
      db = a.app.get(DataSource);
    }, TIMEOUT);

    afterAll(async () => {
      await b?.app.close();
      await a?.close();
    });

    /** Alternates between the two instances. */
    const via = (i: number): TestApp => (i % 2 === 0 ? a! : b!);

    /** The teller's money routes on instance `i` (see `via`). */
    const bank = (i: number) => banking(via(i), token);
    const close = (i: number, accountId: string) =>
      via(i).http.post(`/api/v1/accounts/${accountId}/close`).set(bearer(token));

    async function getAccount(id: string, i = 0): Promise<Account> {
      const res = await via(i).http.get(`/api/v1/accounts/${id}`).set(bearer(token));
      expect(res.status).toBe(200);
      return res.body as Account;
    }

    /** bank.open on each instance in turn: a fresh client's account, funded when asked; its id. */
    const freshAccount = async (overdraftLimit = '0.00', funding?: string): Promise<string> =>
      (await bank(++opened).open({ overdraftLimit, funding })).id;

    /** Every operation of an account through the paginated API, oldest first. */
    async function operationsOf(accountId: string, i = 0): Promise<Operation[]> {
      const newestFirst: Operation[] = [];
      for (let page = 1; ; page++) {
        const res = await via(i + page)
          .http.get(`/api/v1/accounts/${accountId}/operations`)
          .query({ page, limit: 100 })
          .set(bearer(token));
        expect(res.status).toBe(200);
        const items = res.body.items as Operation[];
        newestFirst.push(...items);
        if (items.length < 100 || newestFirst.length >= (res.body.total as number)) {
          expect(newestFirst.length).toBe(res.body.total);
          break;
        }
      }
      expect(new Set(newestFirst.map((o) => o.id)).size).toBe(newestFirst.length);
      return newestFirst.reverse();
    }

    /**
     * Checks one account's ledger through the API: balance = credits - debits,
     * each balanceAfter = previous balanceAfter +/- amount (from 0.00 at the
     * opening), and no balanceAfter below -overdraftLimit. Returns the problems.
     */
    async function checkLedger(
      accountId: string,
    ): Promise<{ account: Account; operations: Operation[]; problems: string[] }> {
      const account = await getAccount(accountId);
      const operations = await operationsOf(accountId);
      const floor = -cents(account.overdraftLimit);
      const problems: string[] = [];
      let running = 0n;
      let credits = 0n;
      let debits = 0n;
      operations.forEach((op, n) => {
        const amount = cents(op.amount);
        if (op.accountId !== accountId)
          problems.push(`${accountId}: op ${op.id} is on ${op.accountId}`);
        if (amount <= 0n) problems.push(`${accountId}: op ${op.id} has amount ${op.amount}`);
        if (op.type === 'credit') credits += amount;
        else debits += amount;
        const expected = op.type === 'credit' ? running + amount : running - amount;
        const after = cents(op.balanceAfter);
        if (after !== expected) {
          problems.push(
            `${accountId}: op #${n + 1} ${op.id} (${op.type} ${op.amount}) has balanceAfter ` +
              `${op.balanceAfter}, expected ${money(expected)} after ${money(running)}`,
          );
        }
        if (after < floor) {
          problems.push(
            `${accountId}: op #${n + 1} ${op.id} left the balance at ${op.balanceAfter}, ` +
              `below -overdraftLimit ${money(floor)}`,
          );
        }
        running = after;
      });
      const balance = cents(account.balance);
      if (balance !== credits - debits) {
        problems.push(
          `${accountId}: balance ${account.balance} != credits ${money(credits)} - debits ${money(debits)}`,
        );
      }
      if (operations.length > 0 && balance !== running) {
        problems.push(
          `${accountId}: balance ${account.balance} != last balanceAfter ${money(running)}`,
        );
      }
      if (balance < floor)
        problems.push(`${accountId}: balance ${account.balance} below ${money(floor)}`);
      return { account, operations, problems };
    }

    /** The same rules, for every account of the database, straight from SQL. */
    async function sqlProblems(): Promise<string[]> {
      const problems: string[] = [];
      const nets = await db.query<Array<{ account_id: string; net: string }>>(
        `SELECT account_id, sum(CASE WHEN type='credit' THEN amount ELSE -amount END)::text AS net
         FROM operations GROUP BY account_id`,
      );
      const accounts = await db.query<
        Array<{ id: string; balance: string; overdraft_limit: string; status: string }>
      >(
        `SELECT id, balance::text AS balance, overdraft_limit::text AS overdraft_limit, status FROM accounts`,
      );
      const net = new Map(nets.map((r) => [r.account_id, BigInt(r.net)]));
      for (const acc of accounts) {
        const sum = net.get(acc.id) ?? 0n;
        if (BigInt(acc.balance) !== sum)
          problems.push(
            `SQL: account ${acc.id} balance ${acc.balance} != sum of operations ${sum}`,
          );
        if (BigInt(acc.balance) < -BigInt(acc.overdraft_limit))
          problems.push(`SQL: account ${acc.id} balance ${acc.balance} < -${acc.overdraft_limit}`);
        if (acc.status === 'closed' && BigInt(acc.balance) !== 0n)
          problems.push(`SQL: account ${acc.id} is closed with balance ${acc.balance}`);
      }
      const chain = await db.query<Array<{ id: string; balance_after: string; expected: string }>>(
        `SELECT id, balance_after::text AS balance_after, expected::text AS expected FROM (
         SELECT id, balance_after,
                lag(balance_after, 1, 0::bigint) OVER (PARTITION BY account_id ORDER BY seq)
                  + CASE WHEN type = 'credit' THEN amount ELSE -amount END AS expected
           FROM operations) x
        WHERE balance_after <> expected`,
      );
      for (const r of chain)
        problems.push(`SQL: op ${r.id} balance_after ${r.balance_after} != expected ${r.expected}`);
      const below = await db.query<Array<{ id: string }>>(
        `SELECT o.id FROM operations o JOIN accounts a ON a.id = o.account_id
        WHERE o.balance_after < -a.overdraft_limit`,
      );
      for (const r of below) problems.push(`SQL: op ${r.id} went below the overdraft limit`);
      const transfers = await db.query<Array<{ transfer_id: string; n: number; net: string }>>(
        `SELECT transfer_id, count(*)::int AS n,
              sum(CASE WHEN type='credit' THEN amount ELSE -amount END)::text AS net
         FROM operations WHERE transfer_id IS NOT NULL GROUP BY transfer_id
       HAVING count(*) <> 2 OR sum(CASE WHEN type='credit' THEN amount ELSE -amount END) <> 0`,
      );
      for (const r of transfers)
        problems.push(`SQL: transfer ${r.transfer_id} has ${r.n} legs, net ${r.net}`);
      return problems;
    }

    const sqlCount = async (sql: string, params: unknown[]): Promise<number> =>
      (await db.query<Array<{ n: number }>>(sql, params))[0].n;

    it(
      '50 parallel withdrawals of 10.00 on 100.00: exactly 10 succeed, 40 get INSUFFICIENT_FUNDS',
      async () => {
        const id = await freshAccount('0.00', '100.00');
        const started = Date.now();
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => bank(i).withdraw(id, '10.00')),
        );
        console.log(`[1] 50 withdrawals in ${Date.now() - started} ms:`, statusCounts(responses));

        expect(serverErrors(responses)).toEqual([]);
        expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
        const refused = responses.filter((r) => r.status === 422);
        expect(refused).toHaveLength(40);
        for (const r of refused) expect(r.body.code).toBe('INSUFFICIENT_FUNDS');

        const { account, operations, problems } = await checkLedger(id);
        expect(problems).toEqual([]);
        expect(account.balance).toBe('0.00');
        expect(operations.filter((o) => o.kind === 'withdrawal')).toHaveLength(10);
        const listed = await via(1)
          .http.get(`/api/v1/accounts/${id}/operations`)
          .query({ kind: 'withdrawal' })
          .set(bearer(token));
        expect(listed.body.total).toBe(10);
        expect(
          await sqlCount(
            `SELECT count(*)::int AS n FROM operations WHERE account_id = $1 AND kind = 'withdrawal'`,
            [id],
          ),
        ).toBe(10);
        const [row] = await db.query<Array<{ balance: string }>>(
          `SELECT balance::text AS balance FROM accounts WHERE id = $1`,
          [id],
        );
        expect(row.balance).toBe('0');
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      '200 parallel deposits of 1.00 add exactly 200.00',
      async () => {
        const id = await freshAccount();
        const started = Date.now();
        const responses = await Promise.all(
          Array.from({ length: 200 }, (_, i) => bank(i).deposit(id, '1.00')),
        );
        console.log(`[2] 200 deposits in ${Date.now() - started} ms:`, statusCounts(responses));

        expect(serverErrors(responses)).toEqual([]);
        expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
        const { account, operations, problems } = await checkLedger(id);
        expect(problems).toEqual([]);
        expect(account.balance).toBe('200.00');
        expect(operations).toHaveLength(200);
        expect(new Set(operations.map((o) => o.balanceAfter)).size).toBe(200);
        expect(
          await sqlCount(`SELECT count(*)::int AS n FROM operations WHERE account_id = $1`, [id]),
        ).toBe(200);
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'opposing transfers A->B and B->A in parallel all succeed, without deadlock, and conserve A+B',
      async () => {
        const [x, y] = [await freshAccount('0.00', '100.00'), await freshAccount('0.00', '100.00')];
        const started = Date.now();
        // Directions alternate, and each direction goes to both instances.
        const responses = await Promise.all(
          Array.from({ length: 80 }, (_, i) =>
            i % 2 === 0
              ? bank(i >> 1).transfer(x, y, '1.00')
              : bank((i >> 1) + 1).transfer(y, x, '1.00'),
          ),
        );
        console.log(
          `[3] 80 opposing transfers in ${Date.now() - started} ms:`,
          statusCounts(responses),
        );

        expect(serverErrors(responses)).toEqual([]);
        expect(responses.map((r) => r.status)).toEqual(Array(80).fill(201));
        const left = await checkLedger(x);
        const right = await checkLedger(y);
        expect([...left.problems, ...right.problems]).toEqual([]);
        expect(money(cents(left.account.balance) + cents(right.account.balance))).toBe('200.00');
        // 40 out and 40 in on each side.
        expect(left.account.balance).toBe('100.00');
        expect(right.account.balance).toBe('100.00');
        expect(left.operations).toHaveLength(81);
        expect(right.operations).toHaveLength(81);
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'a random concurrent mix of transfers, deposits and withdrawals keeps every money rule',
      async () => {
        const seed = process.env.CONCURRENCY_SEED
          ? Number(process.env.CONCURRENCY_SEED)
          : Date.now() % 2 ** 32;
        console.log(`[4] random mix seed: ${seed} (replay with CONCURRENCY_SEED=${seed})`);
        const rng = mulberry32(seed);
        const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
        const amount = () => money(BigInt(int(1, 3000))); // 0.01 .. 30.00

        const limits = ['0.00', '0.00', '25.00', '0.00', '100.00', '10.00'];
        const ids: string[] = [];
        let deposited = 0n;
        let withdrawn = 0n;
        for (const limit of limits) {
          const funding = money(BigInt(int(0, 10000)));
          ids.push(await freshAccount(limit, cents(funding) > 0n ? funding : undefined));
          deposited += cents(funding);
        }

        type Planned =
          | { kind: 'transfer'; from: string; to: string; amount: string }
          | { kind: 'deposit' | 'withdrawal'; account: string; amount: string };
        const plan: Planned[] = [];
        for (let n = 0; n < 300; n++) {
          const from = int(0, 5);
          const to = (from + int(1, 5)) % 6;
          plan.push({ kind: 'transfer', from: ids[from], to: ids[to], amount: amount() });
        }
        for (let n = 0; n < 40; n++)
          plan.push({ kind: 'deposit', account: ids[int(0, 5)], amount: amount() });
        for (let n = 0; n < 40; n++)
          plan.push({ kind: 'withdrawal', account: ids[int(0, 5)], amount: amount() });
        for (let n = plan.length - 1; n > 0; n--) {
          const m = int(0, n);
          [plan[n], plan[m]] = [plan[m], plan[n]];
        }
        // About half carry an Idempotency-Key, so both paths run under contention.
        const keys = plan.map(() => (rng() < 0.5 ? randomUUID() : undefined));

        const started = Date.now();
        const responses = await Promise.all(
          plan.map((p, i) =>
            p.kind === 'transfer'
              ? bank(i).transfer(p.from, p.to, p.amount, keys[i])
              : p.kind === 'deposit'
                ? bank(i).deposit(p.account, p.amount, keys[i])
                : bank(i).withdraw(p.account, p.amount, keys[i]),
          ),
        );
        const elapsed = Date.now() - started;
        const byKind = (kind: Planned['kind']) =>
          statusCounts(responses.filter((_, i) => plan[i].kind === kind));
        console.log(
          `[4] ${plan.length} requests in ${elapsed} ms; transfers:`,
          byKind('transfer'),
          'deposits:',
          byKind('deposit'),
          'withdrawals:',
          byKind('withdrawal'),
        );

        expect(serverErrors(responses)).toEqual([]);
        const unexpected = responses
          .map((r, i) => ({ i, status: r.status, body: r.body as { code?: string } }))
          .filter(
            (r) =>
              !(
                r.status === 201 ||
                r.status === 409 ||
                (r.status === 422 && r.body.code === 'INSUFFICIENT_FUNDS')
              ),
          )
          .map((r) => ({ ...r, request: plan[r.i] }));
        expect(unexpected).toEqual([]);
        // Nothing here can refuse a deposit.
        expect(byKind('deposit')).toEqual({ '201': 40 });
        let transfersDone = 0;
        responses.forEach((r, i) => {
          const p = plan[i];
          if (r.status !== 201) return;
          if (p.kind === 'deposit') deposited += cents(p.amount);
          else if (p.kind === 'withdrawal') withdrawn += cents(p.amount);
          else transfersDone += 1;
        });

        const ledgers = [];
        for (const id of ids) ledgers.push(await checkLedger(id));
        expect(ledgers.flatMap((l) => l.problems)).toEqual([]);
        const total = ledgers.reduce((sum, l) => sum + cents(l.account.balance), 0n);
        console.log(
          `[4] balances: ${ledgers.map((l) => l.account.balance).join(', ')}; ` +
            `sum ${money(total)} = deposits ${money(deposited)} - withdrawals ${money(withdrawn)}; ` +
            `${transfersDone} transfers done`,
        );
        expect(money(total)).toBe(money(deposited - withdrawn));

        // Every acknowledged transfer is there with both legs, and nothing else moved money.
        const operations = ledgers.flatMap((l) => l.operations);
        const transferOps = operations.filter((o) => o.kind === 'transfer');
        expect(transferOps).toHaveLength(2 * transfersDone);
        const depositOps = operations.filter((o) => o.kind === 'deposit');
        const withdrawalOps = operations.filter((o) => o.kind === 'withdrawal');
        expect(money(depositOps.reduce((s, o) => s + cents(o.amount), 0n))).toBe(money(deposited));
        expect(money(withdrawalOps.reduce((s, o) => s + cents(o.amount), 0n))).toBe(
          money(withdrawn),
        );
        responses.forEach((r, i) => {
          const p = plan[i];
          if (r.status !== 201 || p.kind !== 'transfer') return;
          const legs = transferOps.filter((o) => o.transferId === r.body.id);
          expect(legs.map((o) => [o.accountId, o.type, o.amount]).sort()).toEqual(
            [
              [p.from, 'debit', money(cents(p.amount))],
              [p.to, 'credit', money(cents(p.amount))],
            ].sort(),
          );
        });

        // SQL: balances against the sum of operations, for these accounts and all others.
        const nets = await db.query<Array<{ account_id: string; net: string }>>(
          `SELECT account_id, sum(CASE WHEN type='credit' THEN amount ELSE -amount END)::text AS net
           FROM operations GROUP BY account_id`,
        );
        const balances = await db.query<Array<{ id: string; balance: string }>>(
          `SELECT id, balance::text AS balance FROM accounts`,
        );
        const net = new Map(nets.map((r) => [r.account_id, r.net]));
        for (const l of ledgers) {
          const row = balances.find((r) => r.id === l.account.id)!;
          expect(money(BigInt(row.balance))).toBe(l.account.balance);
          expect(money(BigInt(net.get(l.account.id) ?? '0'))).toBe(l.account.balance);
        }
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'the same Idempotency-Key sent 20 times at once has exactly one effect',
      async () => {
        const id = await freshAccount('0.00', '10.00');
        const before = await sqlCount(
          `SELECT count(*)::int AS n FROM operations WHERE account_id = $1`,
          [id],
        );
        const key = `concurrency-${randomUUID()}`;
        const started = Date.now();
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) => bank(i).deposit(id, '5.00', key)),
        );
        console.log(`[5] 20 same-key deposits in ${Date.now() - started} ms:`, {
          ...statusCounts(responses),
          replayed: responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length,
        });

        expect(serverErrors(responses)).toEqual([]);
        const created = responses.filter((r) => r.status === 201);
        const inUse = responses.filter((r) => r.status === 409);
        expect(created.length + inUse.length).toBe(20);
        for (const r of inUse) expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
        const originals = created.filter((r) => r.headers['idempotent-replayed'] !== 'true');
        expect(originals).toHaveLength(1);
        const original = originals[0].body as Operation;
        for (const r of created) {
          expect(r.body).toEqual(original);
          if (r !== originals[0]) expect(r.headers['idempotent-replayed']).toBe('true');
        }

        const { account, operations, problems } = await checkLedger(id);
        expect(problems).toEqual([]);
        expect(account.balance).toBe('15.00');
        expect(operations).toHaveLength(before + 1);
        expect(operations[operations.length - 1].id).toBe(original.id);
        expect(
          await sqlCount(`SELECT count(*)::int AS n FROM operations WHERE account_id = $1`, [id]),
        ).toBe(before + 1);

        for (const i of [0, 1]) {
          const again = await bank(i).deposit(id, '5.00', key);
          expect(again.status).toBe(201);
          expect(again.headers['idempotent-replayed']).toBe('true');
          expect(again.body.id).toBe(original.id);
          expect(again.body).toEqual(original);
        }
        expect((await getAccount(id, 1)).balance).toBe('15.00');
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'concurrent reversals of one deposit: exactly one succeeds, the others get ALREADY_REVERSED',
      async () => {
        const id = await freshAccount('0.00', '20.00');
        const dep = await bank(1).deposit(id, '50.00');
        expect(dep.status).toBe(201);
        const opId = (dep.body as Operation).id;
        const started = Date.now();
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) => bank(i).reverse(opId)),
        );
        console.log(`[6] 10 reversals in ${Date.now() - started} ms:`, statusCounts(responses));

        expect(serverErrors(responses)).toEqual([]);
        const done = responses.filter((r) => r.status === 201);
        expect(done).toHaveLength(1);
        const refused = responses.filter((r) => r.status === 409);
        expect(refused).toHaveLength(9);
        for (const r of refused) expect(r.body.code).toBe('ALREADY_REVERSED');
        const reversal = done[0].body as Operation;
        expect(reversal).toMatchObject({ type: 'debit', kind: 'reversal', amount: '50.00' });
        expect(reversal.reversalOf).toBe(opId);

        const { account, operations, problems } = await checkLedger(id);
        expect(problems).toEqual([]);
        expect(account.balance).toBe('20.00');
        expect(operations).toHaveLength(3);
        const original = operations.find((o) => o.id === opId)!;
        expect(original.reversedBy).toBe(reversal.id);
        expect(
          await sqlCount(`SELECT count(*)::int AS n FROM operations WHERE reversal_of = $1`, [
            opId,
          ]),
        ).toBe(1);
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'concurrent reversals of one transfer, given either leg: exactly one succeeds',
      async () => {
        const x = await freshAccount('0.00', '100.00');
        const y = await freshAccount();
        const sent = await bank(0).transfer(x, y, '30.00');
        expect(sent.status).toBe(201);
        const legs = [sent.body.debit.id as string, sent.body.credit.id as string];
        const started = Date.now();
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) => bank(i).reverse(legs[(i >> 1) % 2])),
        );
        console.log(
          `[6b] 10 transfer reversals in ${Date.now() - started} ms:`,
          statusCounts(responses),
        );

        expect(serverErrors(responses)).toEqual([]);
        expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
        const refused = responses.filter((r) => r.status === 409);
        expect(refused).toHaveLength(9);
        for (const r of refused) expect(r.body.code).toBe('ALREADY_REVERSED');

        const left = await checkLedger(x);
        const right = await checkLedger(y);
        expect([...left.problems, ...right.problems]).toEqual([]);
        expect(left.account.balance).toBe('100.00');
        expect(right.account.balance).toBe('0.00');
        expect(left.operations).toHaveLength(3);
        expect(right.operations).toHaveLength(2);
        expect(
          await sqlCount(
            `SELECT count(*)::int AS n FROM operations WHERE reversal_of = ANY($1::uuid[])`,
            [legs],
          ),
        ).toBe(2);
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'close vs deposit at once: either closed at 0.00 and the deposit refused, or the deposit first',
      async () => {
        const outcomes = { closedFirst: 0, depositedFirst: 0 };
        const problems: string[] = [];
        const started = Date.now();
        for (let round = 0; round < 10; round++) {
          const id = await freshAccount();
          // Alternate which instance closes and which request is sent first.
          const [closed, deposited] =
            round % 2 === 0
              ? await Promise.all([close(round, id), bank(round + 1).deposit(id, '7.00')])
              : await Promise.all([bank(round + 1).deposit(id, '7.00'), close(round, id)]).then(
                  ([d, c]) => [c, d] as const,
                );
          const account = await getAccount(id, round);
          const seen =
            `round ${round}: close ${closed.status} ${String(closed.body?.code ?? '')}, ` +
            `deposit ${deposited.status} ${String(deposited.body?.code ?? '')}, ` +
            `account ${account.status} ${account.balance}`;
          if (
            closed.status === 200 &&
            deposited.status === 409 &&
            deposited.body.code === 'ACCOUNT_NOT_ACTIVE' &&
            account.status === 'closed' &&
            account.balance === '0.00' &&
            closed.body.status === 'closed'
          ) {
            outcomes.closedFirst += 1;
          } else if (
            deposited.status === 201 &&
            closed.status === 409 &&
            closed.body.code === 'BALANCE_NOT_ZERO' &&
            account.status === 'active' &&
            account.balance === '7.00'
          ) {
            outcomes.depositedFirst += 1;
          } else {
            problems.push(seen);
          }
          if (account.status === 'closed' && account.balance !== '0.00')
            problems.push(`closed with a non-zero balance: ${seen}`);
          problems.push(...(await checkLedger(id)).problems);
        }
        console.log(`[7] 10 close/deposit races in ${Date.now() - started} ms:`, outcomes);
        expect(problems).toEqual([]);
        expect(outcomes.closedFirst + outcomes.depositedFirst).toBe(10);
        expect(
          await sqlCount(
            `SELECT count(*)::int AS n FROM accounts WHERE status = 'closed' AND balance <> 0`,
            [],
          ),
        ).toBe(0);
        expect(await sqlProblems()).toEqual([]);
      },
      TIMEOUT,
    );
  },
);
