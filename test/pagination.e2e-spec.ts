/**
 * Lists as the contract's "Lists" section describes them: `page` for shallow
 * pages, an opaque `cursor` for any depth, `nextCursor` on every page, a
 * `total` that is exact or null, and cursor paging that never skips or
 * repeats an item while new ones are being added.
 */
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import {
  Account,
  Banking,
  ClientBody,
  Operation,
  allPages,
  createClient,
  createCustomer,
  uniqueName,
} from './helpers/banking';
import { expectFieldError, expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

describe('lists', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (path: string) => t.http.get(path).set(bearer(teller));

  describe('cursor paging never skips or repeats, even while items are added', () => {
    it("an account's operations, newest first", async () => {
      const account = await bank.open();
      for (let i = 1; i <= 11; i++) {
        expect((await bank.deposit(account.id, `${i}.00`)).status).toBe(201);
      }
      const before = (await bank.operations(account.id, 'limit=100')).body.items as Operation[];
      let added = 0;
      const seen = await allPages<Operation>(
        t,
        teller,
        `/api/v1/accounts/${account.id}/operations?limit=3`,
        // New operations arrive between pages: they are newer than every page still to come.
        async () => {
          expect((await bank.deposit(account.id, '0.50')).status).toBe(201);
          added++;
        },
      );
      expect(added).toBe(3);
      expect(seen.map((o) => o.id)).toEqual(before.map((o) => o.id));
      expect(seen).toEqual(before);
      expect((await bank.operations(account.id, 'limit=1')).body.total).toBe(11 + added);
    });

    it("an account's operations with filters, through every page", async () => {
      const account = await bank.open({ funding: '100.00' });
      for (let i = 0; i < 5; i++) {
        expect((await bank.withdraw(account.id, '1.00')).status).toBe(201);
        expect((await bank.deposit(account.id, '2.00')).status).toBe(201);
      }
      const debits = await allPages<Operation>(
        t,
        teller,
        `/api/v1/accounts/${account.id}/operations?limit=2&type=debit`,
        async () => {
          expect((await bank.withdraw(account.id, '1.00')).status).toBe(201);
        },
      );
      expect(debits).toHaveLength(5);
      expect(debits.every((o) => o.type === 'debit')).toBe(true);
      expect(new Set(debits.map((o) => o.id)).size).toBe(5);
    });

    it('the staff-wide list of operations', async () => {
      const account = await bank.open();
      for (let i = 0; i < 7; i++) expect((await bank.deposit(account.id, '1.00')).status).toBe(201);
      const before = (await get(`/api/v1/operations?accountId=${account.id}&limit=100`)).body
        .items as Operation[];
      const pages = await allPages<Operation>(
        t,
        teller,
        `/api/v1/operations?accountId=${account.id}&limit=2`,
        async () => {
          expect((await bank.deposit(account.id, '1.00')).status).toBe(201);
        },
      );
      expect(pages).toEqual(before);

      const everything = await allPages<Operation>(t, teller, '/api/v1/operations?limit=7');
      expect(new Set(everything.map((o) => o.id)).size).toBe(everything.length);
      const total = (await get('/api/v1/operations?limit=1')).body.total as number;
      expect(everything).toHaveLength(total);
    });

    it('accounts, clients and users, oldest (or by name) first', async () => {
      const holder = await createClient(t, teller);
      for (let i = 0; i < 4; i++) await bank.open({ holderIds: [holder.id] });
      const accounts = (await get('/api/v1/accounts?limit=100')).body.items as Account[];
      let opened = 0;
      const paged = await allPages<Account>(t, teller, '/api/v1/accounts?limit=3', async () => {
        await bank.open({ holderIds: [holder.id] });
        opened++;
      });
      // Accounts opened meanwhile come after every account there was: they may be on a later page.
      expect(paged.slice(0, accounts.length)).toEqual(accounts);
      expect(new Set(paged.map((a) => a.id)).size).toBe(paged.length);

      const held = await allPages<Account>(
        t,
        teller,
        `/api/v1/clients/${holder.id}/accounts?limit=2`,
      );
      expect(held).toHaveLength(4 + opened);

      const clients = (await get('/api/v1/clients?limit=100')).body.items as ClientBody[];
      const pagedClients = await allPages<ClientBody>(
        t,
        teller,
        '/api/v1/clients?limit=2',
        async () => {
          await createClient(t, teller, { lastName: 'Zzz' });
        },
      );
      for (const c of clients) expect(pagedClients.filter((p) => p.id === c.id)).toHaveLength(1);
      expect(new Set(pagedClients.map((c) => c.id)).size).toBe(pagedClients.length);

      for (let i = 0; i < 3; i++)
        await t.createUser(admin, { username: uniqueName('pg'), role: 'teller' });
      const users = (await t.http.get('/api/v1/users?limit=100').set(bearer(admin))).body
        .items as Array<{
        id: string;
      }>;
      const pagedUsers = await allPages<{ id: string }>(t, admin, '/api/v1/users?limit=2');
      expect(pagedUsers.map((u) => u.id)).toEqual(users.map((u) => u.id));
    });
  });

  describe('page and cursor', () => {
    it('page × limit above 10000 is 400 and points to the cursor', async () => {
      for (const query of [
        'page=101&limit=100',
        'page=501',
        'page=1e300',
        'page=99999999999999999999',
      ]) {
        const res = await get(`/api/v1/operations?${query}`);
        expectFieldError(res, 'page');
        if (!query.includes('e300') && !query.startsWith('page=9999')) {
          expect(JSON.stringify(res.body.errors)).toMatch(/cursor/);
        }
      }
      expect((await get('/api/v1/operations?page=100&limit=100')).status).toBe(200);
      expect((await get('/api/v1/clients?page=500')).status).toBe(200);
    });

    it('a malformed cursor is 400, and so is page with cursor', async () => {
      const account = await bank.open({ funding: '1.00' });
      for (const cursor of ['abc', '!!!', Buffer.from('["x"]').toString('base64url'), 'e30']) {
        expectFieldError(
          await get(`/api/v1/accounts/${account.id}/operations?cursor=${cursor}`),
          'cursor',
        );
        expectFieldError(await get(`/api/v1/operations?cursor=${cursor}`), 'cursor');
        expectFieldError(await get(`/api/v1/accounts?cursor=${cursor}`), 'cursor');
        expectFieldError(await get(`/api/v1/clients?cursor=${cursor}`), 'cursor');
      }
      const first = await get('/api/v1/clients?limit=1');
      expectFieldError(
        await get(`/api/v1/clients?limit=1&page=1&cursor=${first.body.nextCursor}`),
        'cursor',
      );
    });

    it("another list's, another account's or other filters' cursor is 400", async () => {
      const a = await bank.open({ funding: '1.00' });
      const b = await bank.open({ funding: '1.00' });
      for (const account of [a, b]) {
        expect((await bank.deposit(account.id, '1.00')).status).toBe(201);
      }
      const ofA = (await bank.operations(a.id, 'limit=1')).body.nextCursor as string;
      expect(ofA).toEqual(expect.any(String));
      expect((await bank.operations(a.id, `limit=1&cursor=${ofA}`)).status).toBe(200);
      expectFieldError(await bank.operations(b.id, `limit=1&cursor=${ofA}`), 'cursor');
      expectFieldError(await bank.operations(a.id, `limit=1&type=credit&cursor=${ofA}`), 'cursor');
      expectFieldError(await get(`/api/v1/operations?limit=1&cursor=${ofA}`), 'cursor');
      const ofClients = (await get('/api/v1/clients?limit=1')).body.nextCursor as string;
      expectFieldError(await get(`/api/v1/accounts?cursor=${ofClients}`), 'cursor');
      expectFieldError(await get(`/api/v1/clients?lastName=a&cursor=${ofClients}`), 'cursor');
      // The limit may change between pages.
      expect((await bank.operations(a.id, `limit=5&cursor=${ofA}`)).status).toBe(200);
    });

    it('a cursor altered to start elsewhere is 400; the real ones page through', async () => {
      const holder = await createClient(t, teller);
      const customer = await createCustomer(t, admin, holder.id);
      const mine = await bank.open({ holderIds: [holder.id], funding: '1.00' });
      const theirs = await bank.open({ funding: '1.00' });
      for (let i = 0; i < 5; i++) {
        expect((await bank.deposit(mine.id, '1.00')).status).toBe(201);
        expect((await bank.deposit(theirs.id, '1.00')).status).toBe(201);
      }
      const list = `/api/v1/accounts/${mine.id}/operations?limit=2`;
      const asCustomer = (path: string) => t.http.get(path).set(bearer(customer));
      const first = await asCustomer(list);
      const cursor = first.body.nextCursor as string;
      const seqOf = async (id: string) =>
        (
          await t.app
            .get(DataSource)
            .query<Array<{ seq: string }>>(`SELECT seq FROM operations WHERE id = $1`, [id])
        )[0].seq;
      const last = await seqOf((first.body.items as Operation[])[1].id);
      const text = Buffer.from(cursor, 'base64url').toString('latin1');
      expect(text).toContain(`"${last}"]`);
      // The same cursor with the seq of another client's operation, or of a row further down.
      for (const id of [
        ((await bank.operations(theirs.id, 'limit=1')).body.items as Operation[])[0].id,
        ((await bank.operations(mine.id, 'limit=1&page=5')).body.items as Operation[])[0].id,
      ]) {
        const forged = text.replace(`"${last}"]`, `"${await seqOf(id)}"]`);
        const unsigned = forged.slice(0, forged.indexOf(']') + 1);
        for (const altered of [forged, unsigned]) {
          expectFieldError(
            await asCustomer(
              `${list}&cursor=${Buffer.from(altered, 'latin1').toString('base64url')}`,
            ),
            'cursor',
          );
        }
      }
      const all = (await asCustomer(list.replace('limit=2', 'limit=100'))).body.items;
      expect(all).toHaveLength(6);
      expect(await allPages<Operation>(t, customer, list)).toEqual(all);
    });

    it('a cursor page says page null; the last page says nextCursor null', async () => {
      const account = await bank.open({ funding: '1.00' });
      expect((await bank.deposit(account.id, '1.00')).status).toBe(201);
      const first = await bank.operations(account.id, 'limit=1');
      expect(first.body).toEqual(
        expect.objectContaining({ page: 1, limit: 1, total: 2, nextCursor: expect.any(String) }),
      );
      const second = await bank.operations(account.id, `limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual(
        expect.objectContaining({ page: null, limit: 1, total: 2, nextCursor: null }),
      );
      expect(second.body.items).toHaveLength(1);
      // page=2 gives the same item, and a cursor to go on from it.
      const byPage = await bank.operations(account.id, 'limit=1&page=2');
      expect(byPage.body.items).toEqual(second.body.items);
      expect(byPage.body.nextCursor).toBeNull();
    });
  });

  describe('total', () => {
    let big: Account;
    let small: Account;

    /** More operations than a capped count counts, written straight to the ledger with a correct chain. */
    beforeAll(async () => {
      big = await bank.open();
      small = await bank.open({ funding: '5.00' });
      const performer = (await t.http.get('/api/v1/auth/me').set(bearer(teller))).body.id as string;
      const db = t.app.get(DataSource);
      await db.transaction(async (em) => {
        await em.query(
          `INSERT INTO operations (account_id, type, kind, amount, balance_after, performed_by, created_at)
           SELECT $1, 'credit', CASE WHEN i <= 3 THEN 'reversal' ELSE 'deposit' END, 100, 100 * i, $2,
                  now() - interval '1 day' + i * interval '1 millisecond'
             FROM generate_series(1, 10050) i`,
          [big.id, performer],
        );
        await em.query(
          `UPDATE accounts SET balance = 1005000, operation_count = 10050 WHERE id = $1`,
          [big.id],
        );
      });
    });

    it("is the account's exact count without filters, however many", async () => {
      const res = await bank.operations(big.id, 'limit=5');
      expect(res.body.total).toBe(10050);
      expect(res.body.items[0].balanceAfter).toBe('10050.00');
      const staff = await get(`/api/v1/operations?accountId=${big.id}&limit=5`);
      expect(staff.body.total).toBe(10050);
    });

    it('is null where only a scan of more than 10000 rows could count it', async () => {
      const year = new Date().getUTCFullYear();
      const filtered = await bank.operations(big.id, `from=${year - 1}-01-01&limit=5`);
      expect(filtered.status).toBe(200);
      expect(filtered.body.total).toBeNull();
      expect(filtered.body.items).toHaveLength(5);
      expect(filtered.body.nextCursor).toEqual(expect.any(String));
      const everything = await get('/api/v1/operations?limit=5');
      expect(everything.body.total).toBeNull();
      expect((await get('/api/v1/operations?kind=deposit&limit=5')).body.total).toBeNull();
    });

    it('is exact with filters over a small account', async () => {
      expect((await bank.withdraw(small.id, '1.00')).status).toBe(201);
      expect((await bank.operations(small.id, 'type=debit')).body.total).toBe(1);
      expect((await bank.operations(small.id, 'kind=deposit')).body.total).toBe(1);
      const today = new Date().toISOString().slice(0, 10);
      expect((await bank.operations(small.id, `from=${today}`)).body.total).toBe(2);
      expect((await get(`/api/v1/operations?accountId=${small.id}&type=credit`)).body.total).toBe(
        1,
      );
    });

    it('a rare kind deep in a long history: each page reads a bounded window and says where to go on', async () => {
      const first = await bank.operations(big.id, 'kind=reversal&limit=20');
      expect(first.status).toBe(200);
      expect(first.body).toEqual(
        expect.objectContaining({ items: [], total: null, nextCursor: expect.any(String) }),
      );
      const found = await allPages<Operation>(
        t,
        teller,
        `/api/v1/accounts/${big.id}/operations?kind=reversal&limit=20`,
      );
      expect(found.map((o) => o.balanceAfter)).toEqual(['3.00', '2.00', '1.00']);
      const staff = await allPages<Operation>(
        t,
        teller,
        `/api/v1/operations?accountId=${big.id}&kind=reversal&limit=2`,
      );
      expect(staff.map((o) => o.id)).toEqual(found.map((o) => o.id));
      // Filtered pages by number stay within the first window.
      const second = await bank.operations(big.id, 'type=credit&limit=20&page=2');
      expect(second.body.items).toHaveLength(20);
    });

    it('pages by cursor to the end of an account of more than 10000 operations', async () => {
      const all = await allPages<Operation>(
        t,
        teller,
        `/api/v1/accounts/${big.id}/operations?limit=100`,
      );
      expect(all).toHaveLength(10050);
      expect(all[0].balanceAfter).toBe('10050.00');
      expect(all[10049].balanceAfter).toBe('1.00');
      expect(new Set(all.map((o) => o.id)).size).toBe(10050);
    }, 120_000);
  });

  describe('streamed statements', () => {
    /** Writes `n` deposits of 1.00 to the ledger directly (a correct chain), an hour ago. */
    async function history(account: Account, n: number): Promise<void> {
      const performer = (await t.http.get('/api/v1/auth/me').set(bearer(teller))).body.id as string;
      await t.app.get(DataSource).transaction(async (em) => {
        await em.query(
          `INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by, created_at)
           SELECT $1, 'credit', 'deposit', 100, 100 * i, CASE WHEN i % 7 = 0 THEN '=cmd, "x"' END, $2,
                  now() - interval '1 hour' + i * interval '1 millisecond'
             FROM generate_series(1, $3::int) i`,
          [account.id, performer, n],
        );
        await em.query(`UPDATE accounts SET balance = $2, operation_count = $3 WHERE id = $1`, [
          account.id,
          100 * n,
          n,
        ]);
      });
    }

    it('agrees with its rows while the account is written to during the export', async () => {
      const account = await bank.open();
      await history(account, 6000);
      const server = t.app.getHttpServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as { port: number };
      const since = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
      const res = await fetch(
        `http://127.0.0.1:${port}/api/v1/accounts/${account.id}/statement?from=${since}`,
        {
          headers: { authorization: `Bearer ${teller}` },
        },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const reader = res.body!.getReader();
      const chunks: Uint8Array[] = [];
      const first = await reader.read();
      chunks.push(first.value);
      // Written while the statement is being sent: after its end, so not in it.
      for (let i = 0; i < 3; i++) expect((await bank.deposit(account.id, '7.00')).status).toBe(201);
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        chunks.push(next.value);
      }
      const statement = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        openingBalance: string;
        closingBalance: string;
        totalCredits: string;
        totalDebits: string;
        operations: Operation[];
      };
      expect(statement.operations).toHaveLength(6000);
      expect(statement.openingBalance).toBe('0.00');
      expect(statement.totalCredits).toBe('6000.00');
      expect(statement.totalDebits).toBe('0.00');
      expect(statement.closingBalance).toBe('6000.00');
      expect(statement.operations[5999].balanceAfter).toBe('6000.00');
      expect(statement.operations[6].description).toBe('=cmd, "x"');
      const listed = (await bank.operations(account.id, 'limit=4')).body.items as Operation[];
      expect(listed.slice(3)).toEqual([statement.operations[5999]]);
      expect(await bank.balance(account.id)).toBe('6021.00');

      const csv = await t.http
        .get(`/api/v1/accounts/${account.id}/statement?format=csv&from=${since}`)
        .set(bearer(teller));
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('date,id,kind,type,description,counterparty,amount,balanceAfter');
      expect(lines).toHaveLength(1 + 6003);
      expect(lines[7]).toMatch(/,"'=cmd, ""x""",,1\.00,7\.00$/);
      expect(lines[6003]).toMatch(/,deposit,credit,,,7\.00,6021\.00$/);
    }, 120_000);
  });

  it('an unknown account is still 404 whatever the paging', async () => {
    const res = await get(
      '/api/v1/accounts/00000000-0000-4000-8000-000000000000/operations?limit=5',
    );
    expectProblem(res, 404, 'NOT_FOUND');
  });
});
