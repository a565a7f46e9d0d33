/** Account statements: JSON and CSV, ranges, content negotiation. */
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { TestApp, bearer } from '../helpers/app';
import { Account, Banking, Operation, cents } from '../helpers/banking';
import { expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { csvCells, day } from '../helpers/operations';

const STATEMENT_KEYS = [
  'account',
  'closingBalance',
  'from',
  'openingBalance',
  'operations',
  'to',
  'totalCredits',
  'totalDebits',
];

const CSV_HEADER = 'date,id,kind,type,description,counterparty,amount,balanceAfter';

describe('operations', () => {
  let t: TestApp;
  let teller: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, teller, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  describe('statements', () => {
    let account: Account;
    let ops: Operation[];

    beforeAll(async () => {
      account = await bank.open();
      ops = [];
      ops.push((await bank.deposit(account.id, { amount: '100.00', description: 'Salary' })).body);
      ops.push(
        (await bank.withdraw(account.id, { amount: '25.00', description: 'Rent, March' })).body,
      );
      ops.push(
        (await bank.deposit(account.id, { amount: '10.50', description: 'He said "thanks"' })).body,
      );
      account = (await t.http.get(`/api/v1/accounts/${account.id}`).set(bearer(teller))).body;
    });

    const statement = (query = '', accept?: string) => {
      const req = t.http
        .get(`/api/v1/accounts/${account.id}/statement?${query}`)
        .set(bearer(teller));
      return accept ? req.set('Accept', accept) : req;
    };

    it('JSON by default: opening day to today, oldest first, with the right totals', async () => {
      const res = await statement();
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual(STATEMENT_KEYS);
      expect(res.body.account).toEqual(account);
      expect(res.body.from).toBe(account.openedAt.slice(0, 10));
      expect(res.body.to).toBe(day(0));
      expect(res.body.openingBalance).toBe('0.00');
      expect(res.body.closingBalance).toBe('85.50');
      expect(res.body.totalCredits).toBe('110.50');
      expect(res.body.totalDebits).toBe('25.00');
      expect(res.body.operations).toEqual(ops);
      expect(
        cents(res.body.openingBalance) + cents(res.body.totalCredits) - cents(res.body.totalDebits),
      ).toBe(cents(res.body.closingBalance));
    });

    it('an explicit range of today gives the same; a day before opening is empty', async () => {
      const today = await statement(`from=${day(0)}&to=${day(0)}`);
      expect(today.status).toBe(200);
      expect(today.body).toEqual(
        expect.objectContaining({
          from: day(0),
          to: day(0),
          openingBalance: '0.00',
          closingBalance: '85.50',
          totalCredits: '110.50',
          totalDebits: '25.00',
        }),
      );
      expect(today.body.operations).toEqual(ops);

      const before = await statement(`from=${day(-2)}&to=${day(-1)}`);
      expect(before.status).toBe(200);
      expect(before.body).toEqual(
        expect.objectContaining({
          from: day(-2),
          to: day(-1),
          openingBalance: '0.00',
          closingBalance: '0.00',
          totalCredits: '0.00',
          totalDebits: '0.00',
          operations: [],
        }),
      );
    });

    it.each([
      [`from after to`, () => `from=${day(0)}&to=${day(-1)}`],
      ['an impossible date', () => 'from=2026-02-30'],
      ['a malformed date', () => 'to=2026-1-1'],
      ['a word', () => 'from=today'],
    ])('%s is 400', async (_label, query) => {
      expectProblem(await statement(query()), 400, 'VALIDATION_FAILED');
    });

    function expectCsv(res: Response): void {
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/^attachment/);
      expect(res.headers['cache-control']).toBe('no-store');
      const lines = res.text.split(/\r?\n/);
      if (lines[lines.length - 1] === '') lines.pop();
      expect(lines[0]).toBe(CSV_HEADER);
      expect(lines).toHaveLength(1 + ops.length);
      const rows = lines.slice(1).map(csvCells);
      rows.forEach((cells, i) => {
        const op = ops[i];
        expect(cells).toHaveLength(8);
        const [date, id, kind, type, description, counterparty, amount, balanceAfter] = cells;
        expect(Date.parse(date)).toBe(Date.parse(op.createdAt));
        expect(id).toBe(op.id);
        expect(kind).toBe(op.kind);
        expect(type).toBe(op.type);
        expect(description).toBe(op.description);
        expect(counterparty).toBe('');
        expect(amount).toBe(op.type === 'debit' ? `-${op.amount}` : op.amount);
        expect(balanceAfter).toBe(op.balanceAfter);
      });
      expect(rows[1][6]).toBe('-25.00');
      expect(lines[2]).toContain('"Rent, March"');
    }

    it('CSV with ?format=csv', async () => {
      expectCsv(await statement('format=csv'));
    });

    it('JSON when Accept prefers it, CSV when it prefers CSV (q-values)', async () => {
      const json = await statement('', 'application/json, text/csv;q=0.1');
      expect(json.status).toBe(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const csv = await statement('', 'text/csv, application/json;q=0.5');
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    });

    it('CSV with Accept: text/csv', async () => {
      const res = await statement('', 'text/csv');
      expectCsv(res);
      expect(res.text).toBe((await statement('format=csv')).text);
    });

    it('shows every operation exactly as reading it does: transfer legs, reversals, any description', async () => {
      const mine = await bank.open();
      const other = await bank.open();
      const odd = [
        'back\\slash',
        'line\nbreak\ttab',
        'quote " and \u00e9\u00e8 \u{1f4b6}',
        '</script>',
      ];
      for (const description of odd) {
        expect((await bank.deposit(mine.id, { amount: '1000.01', description })).status).toBe(201);
      }
      const sent = await bank.transfer(mine.id, other.id, '0.99');
      expect(sent.status).toBe(201);
      const undone = await bank.reverse(sent.body.debit.id);
      expect(undone.status).toBe(201);
      const debt = await bank.withdraw(mine.id, '4000.04');
      expect(debt.status).toBe(201);

      const listed = await bank.operations(mine.id, 'limit=100');
      expect(listed.status).toBe(200);
      const res = await t.http.get(`/api/v1/accounts/${mine.id}/statement`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.body.operations).toEqual([...listed.body.items].reverse());
      expect(res.body.operations.map((o: Operation) => o.description).slice(0, 4)).toEqual(odd);
      expect(res.body.operations.some((o: Operation) => o.reversedBy !== null)).toBe(true);
      expect(res.body.closingBalance).toBe(listed.body.items[0].balanceAfter);
    });

    it('an unknown account is 404', async () => {
      expectProblem(
        await t.http.get(`/api/v1/accounts/${randomUUID()}/statement`).set(bearer(teller)),
        404,
        'NOT_FOUND',
      );
    });
  });
});
