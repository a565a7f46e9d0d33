/** Listing an account's operations (and GET /operations for staff): order, filters, days, pages. */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import { Account, Banking, Operation } from '../helpers/banking';
import { expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { day, expectOperation } from '../helpers/operations';

describe('operations', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  describe('listing an account’s operations', () => {
    let account: Account;
    let created: Operation[];

    beforeAll(async () => {
      account = await bank.open();
      const other = await bank.open();
      created = [];
      created.push((await bank.deposit(account.id, '100.00')).body);
      created.push((await bank.withdraw(account.id, '30.00')).body);
      created.push((await bank.deposit(account.id, '5.00')).body);
      const tr = await bank.transfer(account.id, other.id, '10');
      created.push(tr.body.debit);
      const back = await bank.transfer(other.id, account.id, '2');
      created.push(back.body.credit);
    });

    it('newest first, as a page, not cacheable', async () => {
      const res = await bank.operations(account.id);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual([
        'items',
        'limit',
        'nextCursor',
        'page',
        'total',
      ]);
      expect(res.body).toEqual(expect.objectContaining({ page: 1, limit: 20, total: 5 }));
      expect(res.body.items.map((o: Operation) => o.id)).toEqual(
        [...created].reverse().map((o) => o.id),
      );
      res.body.items.forEach((o: Record<string, unknown>) => expectOperation(o));
      expect(res.body.items).toEqual([...created].reverse());
    });

    it.each([
      ['type=credit', (o: Operation) => o.type === 'credit'],
      ['type=debit', (o: Operation) => o.type === 'debit'],
      ['kind=deposit', (o: Operation) => o.kind === 'deposit'],
      ['kind=withdrawal', (o: Operation) => o.kind === 'withdrawal'],
      ['kind=transfer', (o: Operation) => o.kind === 'transfer'],
      ['kind=reversal', () => false],
      ['kind=transfer&type=credit', (o: Operation) => o.kind === 'transfer' && o.type === 'credit'],
    ])('?%s filters', async (query, keep) => {
      const res = await bank.operations(account.id, query);
      expect(res.status).toBe(200);
      const expected = [...created].reverse().filter(keep);
      expect(res.body.total).toBe(expected.length);
      expect(res.body.items.map((o: Operation) => o.id)).toEqual(expected.map((o) => o.id));
    });

    it('from and to are inclusive UTC days', async () => {
      const today = day(0);
      const all = [...created].reverse().map((o) => o.id);
      const ids = async (query: string) => {
        const res = await bank.operations(account.id, query);
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(res.body.items.length);
        return res.body.items.map((o: Operation) => o.id);
      };
      expect(await ids(`from=${today}`)).toEqual(all);
      expect(await ids(`to=${today}`)).toEqual(all);
      expect(await ids(`from=${today}&to=${today}`)).toEqual(all);
      expect(await ids(`from=${day(-1)}&to=${day(1)}`)).toEqual(all);
      expect(await ids(`to=${day(-1)}`)).toEqual([]);
      expect(await ids(`from=${day(1)}`)).toEqual([]);
      expect(await ids(`from=${today}&kind=deposit`)).toEqual(
        [...created]
          .reverse()
          .filter((o) => o.kind === 'deposit')
          .map((o) => o.id),
      );
    });

    it.each([
      'kind=refund',
      'kind=DEPOSIT',
      'type=both',
      'from=yesterday',
      'from=2026-13-01',
      'from=2026-02-30',
      'to=2026-02-30',
      'to=2026-1-5',
      'to=05/01/2026',
      'limit=101',
      'limit=0',
      'page=0',
    ])('?%s is 400', async (query) => {
      expectProblem(await bank.operations(account.id, query), 400, 'VALIDATION_FAILED');
    });

    it('pages', async () => {
      const seen: string[] = [];
      for (let page = 1; page <= 3; page += 1) {
        const res = await bank.operations(account.id, `page=${page}&limit=2`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(expect.objectContaining({ page, limit: 2, total: 5 }));
        expect(res.body.items).toHaveLength(page < 3 ? 2 : 1);
        seen.push(...res.body.items.map((o: Operation) => o.id));
      }
      expect(seen).toEqual([...created].reverse().map((o) => o.id));
      const beyond = await bank.operations(account.id, 'page=4&limit=2');
      expect(beyond.body).toEqual({ items: [], page: 4, limit: 2, total: 5, nextCursor: null });
    });

    it('an unknown account is 404', async () => {
      expectProblem(await bank.operations(randomUUID()), 404, 'NOT_FOUND');
    });

    it('GET /operations (staff) filters by accountId and the same filters', async () => {
      const res = await t.http
        .get(`/api/v1/operations?accountId=${account.id}&limit=100`)
        .set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual(expect.objectContaining({ page: 1, limit: 100, total: 5 }));
      expect(res.body.items).toEqual([...created].reverse());

      const debits = await t.http
        .get(`/api/v1/operations?accountId=${account.id}&type=debit`)
        .set(bearer(admin));
      expect(debits.status).toBe(200);
      expect(debits.body.items.map((o: Operation) => o.id)).toEqual(
        [...created]
          .reverse()
          .filter((o) => o.type === 'debit')
          .map((o) => o.id),
      );

      const everything = await t.http.get('/api/v1/operations?limit=100').set(bearer(teller));
      expect(everything.status).toBe(200);
      expect(everything.body.total).toBeGreaterThan(5);

      expectProblem(
        await t.http.get('/api/v1/operations?accountId=nope').set(bearer(teller)),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.http.get('/api/v1/operations?kind=refund').set(bearer(teller)),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('GET /operations/:id (staff): the operation; unknown 404, malformed 400', async () => {
      const res = await t.http.get(`/api/v1/operations/${created[1].id}`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual(created[1]);
      expectProblem(
        await t.http.get(`/api/v1/operations/${randomUUID()}`).set(bearer(teller)),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await t.http.get('/api/v1/operations/12').set(bearer(teller)),
        400,
        'VALIDATION_FAILED',
      );
    });
  });
});
