import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { TestApp, bearer } from './helpers/app';
import {
  Account,
  Banking,
  Operation,
  allPages,
  banking,
  cents,
  createClient,
  createCustomer,
  createTeller,
} from './helpers/banking';
import { ISO_UTC, UUID, expectProblem } from './helpers/expect';

const MONEY = /^-?\d+\.\d{2}$/;
const OPERATION_KEYS = [
  'accountId',
  'amount',
  'balanceAfter',
  'createdAt',
  'description',
  'id',
  'kind',
  'performedBy',
  'reversalOf',
  'reversedBy',
  'transferId',
  'type',
];
const SUMMARY_KEYS = ['accountId', 'amount', 'createdAt', 'id', 'type'];
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
const CSV_HEADER = 'date,id,kind,type,description,amount,balanceAfter';

function expectOperation(value: object, expected: Partial<Operation> = {}): void {
  const body = value as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(OPERATION_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.accountId).toMatch(UUID);
  expect(body.performedBy).toMatch(UUID);
  expect(body.amount).toMatch(MONEY);
  expect(cents(body.amount as string) > 0n).toBe(true);
  expect(body.balanceAfter).toMatch(MONEY);
  expect(body.createdAt).toMatch(ISO_UTC);
  expect(body).toEqual(expect.objectContaining(expected));
}

/** A minimal RFC 4180 line splitter (quoted cells, doubled quotes). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

const day = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('operations', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let tellerId: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.adminToken();
    ({ id: tellerId, token: teller } = await createTeller(t, admin));
    bank = banking(t, teller);
  });
  afterAll(async () => {
    await t.close();
  });

  async function newClient(firstName = 'Ada', lastName = 'Lovelace'): Promise<string> {
    return (await createClient(t, teller, { firstName, lastName })).id;
  }
  async function operationCount(id: string): Promise<number> {
    const res = await bank.operations(id, 'limit=1');
    expect(res.status).toBe(200);
    return res.body.total;
  }
  const newCustomer = (clientId: string) => createCustomer(t, admin, clientId);

  describe('deposits and withdrawals', () => {
    it('a deposit is 201, a credit with balanceAfter, performed by the teller', async () => {
      const account = await bank.open();
      const res = await bank.deposit(account.id, { amount: '100.00', description: 'Salary' });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expectOperation(res.body, {
        accountId: account.id,
        type: 'credit',
        kind: 'deposit',
        amount: '100.00',
        balanceAfter: '100.00',
        description: 'Salary',
        transferId: null,
        reversalOf: null,
        reversedBy: null,
        performedBy: tellerId,
      });
      expect(Math.abs(Date.now() - Date.parse(res.body.createdAt))).toBeLessThan(5 * 60 * 1000);
      expect(await bank.balance(account.id)).toBe('100.00');

      const second = await bank.deposit(account.id, '0.01');
      expect(second.status).toBe(201);
      expect(second.body).toEqual(
        expect.objectContaining({ balanceAfter: '100.01', description: null }),
      );
      expect(await bank.balance(account.id)).toBe('100.01');
    });

    it('performedBy is whoever did it (an admin here)', async () => {
      const me = await t.http.get('/api/v1/auth/me').set(bearer(admin));
      const account = await bank.open();
      const res = await banking(t, admin).deposit(account.id, { amount: '5' });
      expect(res.status).toBe(201);
      expect(res.body.performedBy).toBe(me.body.id);
    });

    it('a withdrawal is 201, a debit', async () => {
      const account = await bank.open({ funding: '100.00' });
      const res = await bank.withdraw(account.id, { amount: '30.25', description: 'Cash' });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expectOperation(res.body, {
        accountId: account.id,
        type: 'debit',
        kind: 'withdrawal',
        amount: '30.25',
        balanceAfter: '69.75',
        description: 'Cash',
        transferId: null,
        reversalOf: null,
        reversedBy: null,
        performedBy: tellerId,
      });
      expect(await bank.balance(account.id)).toBe('69.75');
    });

    it('beyond balance + overdraftLimit is 422 INSUFFICIENT_FUNDS; exactly that much succeeds', async () => {
      const account = await bank.open({ funding: '50.00', overdraftLimit: '100.00' });
      expectProblem(await bank.withdraw(account.id, '150.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(account.id)).toBe('50.00');
      expect(await operationCount(account.id)).toBe(1);

      const exact = await bank.withdraw(account.id, '150.00');
      expect(exact.status).toBe(201);
      expect(exact.body.balanceAfter).toBe('-100.00');
      expect(await bank.balance(account.id)).toBe('-100.00');

      expectProblem(await bank.withdraw(account.id, '0.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(account.id)).toBe('-100.00');
      expect(await operationCount(account.id)).toBe(2);
    });

    it('without an overdraft the balance cannot go below zero', async () => {
      const account = await bank.open({ funding: '10.00' });
      expectProblem(await bank.withdraw(account.id, '10.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(account.id)).toBe('10.00');
      expect((await bank.withdraw(account.id, '10.00')).body.balanceAfter).toBe('0.00');
      expectProblem(await bank.withdraw(account.id, '0.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(account.id)).toBe('0.00');
    });

    it('an unknown account is 404, a malformed id 400', async () => {
      expectProblem(await bank.deposit(randomUUID(), '1.00'), 404, 'NOT_FOUND');
      expectProblem(await bank.withdraw(randomUUID(), '1.00'), 404, 'NOT_FOUND');
      expectProblem(await bank.deposit('nope', '1.00'), 400, 'VALIDATION_FAILED');
      expectProblem(await bank.withdraw('nope', '1.00'), 400, 'VALIDATION_FAILED');
      expectProblem(await bank.operations('nope'), 400, 'VALIDATION_FAILED');
      expectProblem(await bank.operations(randomUUID()), 404, 'NOT_FOUND');
    });

    it('an unknown field is 400 and moves nothing', async () => {
      const account = await bank.open({ funding: '10.00' });
      expectProblem(
        await bank.deposit(account.id, { amount: '1.00', balanceAfter: '1000.00' }),
        400,
        'VALIDATION_FAILED',
      );
      expect(await bank.balance(account.id)).toBe('10.00');
    });
  });

  describe('money input rules for amount', () => {
    let account: Account;

    beforeAll(async () => {
      account = await bank.open({ funding: '100.00' });
    });

    it.each([
      ['"12.5"', '12.5', '12.50'],
      ['"12.50"', '12.50', '12.50'],
      ['12.5 as a JSON number', 12.5, '12.50'],
      ['7 as a JSON number', 7, '7.00'],
      ['"0.01"', '0.01', '0.01'],
      ['"1234567890123" (13 integer digits)', '1234567890123', '1234567890123.00'],
    ])('%s is accepted', async (_label, amount, shown) => {
      const before = cents(await bank.balance(account.id));
      const res = await bank.deposit(account.id, { amount });
      expect(res.status).toBe(201);
      expect(res.body.amount).toBe(shown);
      expect(cents(res.body.balanceAfter)).toBe(before + cents(shown));
      expect(cents(await bank.balance(account.id))).toBe(before + cents(shown));
      // Take it out again so the account stays small.
      expect((await bank.withdraw(account.id, { amount: shown })).status).toBe(201);
      expect(cents(await bank.balance(account.id))).toBe(before);
    });

    it.each([
      ['"0"', '0'],
      ['"0.00"', '0.00'],
      ['"-5"', '-5'],
      ['"1.234"', '1.234'],
      ['".5"', '.5'],
      ['"5."', '5.'],
      ['"+5"', '+5'],
      ['" 5"', ' 5'],
      ['"5 "', '5 '],
      ['"1e3" as a string', '1e3'],
      ['"1E3" as a string', '1E3'],
      ['"12345678901234" (14 integer digits)', '12345678901234'],
      ['"NaN"', 'NaN'],
      ['"Infinity"', 'Infinity'],
      ['"-0"', '-0'],
      ['"0x10"', '0x10'],
      ['"1,50"', '1,50'],
      ['an empty string', ''],
      ['null', null],
      ['true', true],
      ['0 as a JSON number', 0],
      ['-5 as a JSON number', -5],
      ['1.234 as a JSON number', 1.234],
      ['100000000000000 as a JSON number', 100000000000000],
      ['an array', ['5.00']],
      ['an object', { value: '5.00' }],
    ])('%s is 400 and the balance is unchanged', async (_label, amount) => {
      const before = await bank.balance(account.id);
      const count = await operationCount(account.id);
      const res = await bank.deposit(account.id, { amount });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(await bank.balance(account.id)).toBe(before);
      expect(await operationCount(account.id)).toBe(count);
    });

    it('a missing amount is 400', async () => {
      const before = await bank.balance(account.id);
      expectProblem(await bank.deposit(account.id, { description: 'x' }), 400, 'VALIDATION_FAILED');
      expect(await bank.balance(account.id)).toBe(before);
    });

    it.each(['{"amount":1e3}', '{"amount":1E3}', '{"amount":1.5e1}', '{"amount":1e-2}'])(
      'the raw JSON body %s (an exponent) is 400 and the balance is unchanged',
      async (raw) => {
        const before = await bank.balance(account.id);
        const count = await operationCount(account.id);
        const res = await t.http
          .post(`/api/v1/accounts/${account.id}/deposits`)
          .set(bearer(teller))
          .set('Content-Type', 'application/json')
          .send(raw);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(await bank.balance(account.id)).toBe(before);
        expect(await operationCount(account.id)).toBe(count);
      },
    );

    it('the same rules hold on withdrawals and transfers', async () => {
      const other = await bank.open();
      const before = await bank.balance(account.id);
      for (const amount of ['0', '-5', '1.234', '1e3', '.5', null, true]) {
        expectProblem(await bank.withdraw(account.id, { amount }), 400, 'VALIDATION_FAILED');
        expectProblem(
          await bank.transfer(account.id, other.id, { amount }),
          400,
          'VALIDATION_FAILED',
        );
      }
      expect(await bank.balance(account.id)).toBe(before);
      expect(await bank.balance(other.id)).toBe('0.00');
    });
  });

  describe('exactness', () => {
    it('"0.10" then "0.20" gives "0.30"; so do the JSON numbers 0.1 and 0.2', async () => {
      const account = await bank.open();
      expect((await bank.deposit(account.id, '0.10')).body.balanceAfter).toBe('0.10');
      const second = await bank.deposit(account.id, '0.20');
      expect(second.body.balanceAfter).toBe('0.30');
      expect(await bank.balance(account.id)).toBe('0.30');

      expect((await bank.deposit(account.id, { amount: 0.1 })).status).toBe(201);
      const fourth = await bank.deposit(account.id, { amount: 0.2 });
      expect(fourth.body.balanceAfter).toBe('0.60');
      expect(await bank.balance(account.id)).toBe('0.60');
    });

    it('9999999999999.99 round-trips', async () => {
      const account = await bank.open();
      const res = await bank.deposit(account.id, '9999999999999.99');
      expect(res.status).toBe(201);
      expect(res.body.amount).toBe('9999999999999.99');
      expect(res.body.balanceAfter).toBe('9999999999999.99');
      expect(await bank.balance(account.id)).toBe('9999999999999.99');
      const ops = await bank.operations(account.id);
      expect(ops.body.items[0].amount).toBe('9999999999999.99');

      const out = await bank.withdraw(account.id, '9999999999999.98');
      expect(out.status).toBe(201);
      expect(out.body.balanceAfter).toBe('0.01');
      expect(await bank.balance(account.id)).toBe('0.01');

      const other = await bank.open();
      const number = await bank.deposit(other.id, { amount: 9999999999999.99 });
      expect(number.status).toBe(201);
      expect(number.body.amount).toBe('9999999999999.99');
    });
  });

  describe('transfers', () => {
    it('201 {id, amount, debit, credit}: both legs share the transferId; balances move', async () => {
      const from = await bank.open({ funding: '100.00' });
      const to = await bank.open({ funding: '5.00' });
      const res = await bank.transfer(from.id, to.id, { amount: '40.50', description: 'Rent' });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual(['amount', 'credit', 'debit', 'id']);
      expect(res.body.id).toMatch(UUID);
      expect(res.body.amount).toBe('40.50');
      expectOperation(res.body.debit, {
        accountId: from.id,
        type: 'debit',
        kind: 'transfer',
        amount: '40.50',
        balanceAfter: '59.50',
        description: 'Rent',
        transferId: res.body.id,
        reversalOf: null,
        reversedBy: null,
        performedBy: tellerId,
      });
      expectOperation(res.body.credit, {
        accountId: to.id,
        type: 'credit',
        kind: 'transfer',
        amount: '40.50',
        balanceAfter: '45.50',
        transferId: res.body.id,
        performedBy: tellerId,
      });
      expect(res.body.debit.id).not.toBe(res.body.credit.id);
      expect(await bank.balance(from.id)).toBe('59.50');
      expect(await bank.balance(to.id)).toBe('45.50');

      const debit = await t.http.get(`/api/v1/operations/${res.body.debit.id}`).set(bearer(teller));
      expect(debit.body).toEqual(res.body.debit);
      const credit = await t.http
        .get(`/api/v1/operations/${res.body.credit.id}`)
        .set(bearer(teller));
      expect(credit.body).toEqual(res.body.credit);
    });

    it('may use the overdraft, down to exactly -overdraftLimit', async () => {
      const from = await bank.open({ funding: '10.00', overdraftLimit: '20' });
      const to = await bank.open();
      const res = await bank.transfer(from.id, to.id, '30.00');
      expect(res.status).toBe(201);
      expect(res.body.debit.balanceAfter).toBe('-20.00');
      expectProblem(await bank.transfer(from.id, to.id, '0.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(from.id)).toBe('-20.00');
      expect(await bank.balance(to.id)).toBe('30.00');
    });

    it('the same account twice is 400 and moves nothing', async () => {
      const account = await bank.open({ funding: '10.00' });
      const res = await bank.transfer(account.id, account.id, '1.00');
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(await bank.balance(account.id)).toBe('10.00');
      expect(await operationCount(account.id)).toBe(1);
    });

    it('the same account twice in different letter case is 400 and moves nothing, with a key too', async () => {
      const account = await bank.open({ funding: '100.00' });
      for (const key of [undefined, randomUUID()]) {
        const res = await bank.transfer(account.id, account.id.toUpperCase(), '40.00', key);
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
      expect(await bank.balance(account.id)).toBe('100.00');
      expect(await operationCount(account.id)).toBe(1);
    });

    it('upper-case ids name the same accounts as lower-case ones', async () => {
      const from = await bank.open({ funding: '10.00' });
      const to = await bank.open({ funding: '1.00' });
      const res = await bank.transfer(from.id.toUpperCase(), to.id.toUpperCase(), '2.50');
      expect(res.status).toBe(201);
      expect(res.body.debit.accountId).toBe(from.id);
      expect(res.body.credit.accountId).toBe(to.id);
      expect(await bank.balance(from.id)).toBe('7.50');
      expect(await bank.balance(to.id)).toBe('3.50');
    });

    it('different currencies are 422 CURRENCY_MISMATCH and move nothing', async () => {
      const euros = await bank.open({ funding: '100.00', currency: 'EUR' });
      const dollars = await bank.open({ funding: '100.00', currency: 'USD' });
      expectProblem(await bank.transfer(euros.id, dollars.id, '10.00'), 422, 'CURRENCY_MISMATCH');
      expectProblem(await bank.transfer(dollars.id, euros.id, '10.00'), 422, 'CURRENCY_MISMATCH');
      expect(await bank.balance(euros.id)).toBe('100.00');
      expect(await bank.balance(dollars.id)).toBe('100.00');
      expect(await operationCount(euros.id)).toBe(1);
      expect(await operationCount(dollars.id)).toBe(1);
    });

    it('insufficient funds are 422 and move nothing', async () => {
      const from = await bank.open({ funding: '10.00' });
      const to = await bank.open({ funding: '1.00' });
      expectProblem(await bank.transfer(from.id, to.id, '10.01'), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(from.id)).toBe('10.00');
      expect(await bank.balance(to.id)).toBe('1.00');
      expect(await operationCount(from.id)).toBe(1);
      expect(await operationCount(to.id)).toBe(1);
    });

    it('an unknown account is 404; malformed ids 400; nothing moves', async () => {
      const account = await bank.open({ funding: '10.00' });
      expectProblem(await bank.transfer(account.id, randomUUID(), '1.00'), 404, 'NOT_FOUND');
      expectProblem(await bank.transfer(randomUUID(), account.id, '1.00'), 404, 'NOT_FOUND');
      expectProblem(await bank.transfer(account.id, 'x', '1.00'), 400, 'VALIDATION_FAILED');
      expect(await bank.balance(account.id)).toBe('10.00');
    });
  });

  describe('what a customer may do', () => {
    let customer: string;
    /** The customer's money routes. */
    let mine: Banking;
    let clientId: string;
    let own: Account;
    let ownSecond: Account;
    let foreign: Account;

    beforeAll(async () => {
      clientId = await newClient('Cora', 'Customer');
      own = await bank.open({ holderIds: [clientId] });
      ownSecond = await bank.open({ holderIds: [clientId] });
      foreign = await bank.open();
      expect((await bank.deposit(own.id, '100.00')).status).toBe(201);
      expect((await bank.deposit(foreign.id, '500.00')).status).toBe(201);
      customer = await newCustomer(clientId);
      mine = banking(t, customer);
    });

    /** Accounts of another client that cannot be paid, each for another reason. */
    async function unpayable(): Promise<Array<[string, string]>> {
      const frozen = await bank.open({ funding: '1.00' });
      const frozeIt = await t.http
        .patch(`/api/v1/accounts/${frozen.id}`)
        .set(bearer(teller))
        .send({ status: 'frozen' });
      expect(frozeIt.status).toBe(200);
      const closed = await bank.open();
      const closeIt = await t.http.post(`/api/v1/accounts/${closed.id}/close`).set(bearer(teller));
      expect(closeIt.status).toBe(200);
      const dollars = await bank.open({ currency: 'USD' });
      return [
        ['missing', randomUUID()],
        ['frozen', frozen.id],
        ['closed', closed.id],
        ['in another currency', dollars.id],
      ];
    }

    it('paying another client: a destination missing, frozen, closed or in another currency is one answer, 422 PAYEE_UNAVAILABLE', async () => {
      const destinations = await unpayable();
      const existing = destinations.slice(1).map(([, id]) => id);
      const before = [await bank.balance(own.id)];
      for (const id of existing) before.push(await bank.balance(id));
      for (const [what, to] of destinations) {
        const res = await mine.transfer(own.id, to, '1.00');
        expectProblem(res, 422, 'PAYEE_UNAVAILABLE');
        // The same answer whatever the reason: the account's state and currency stay unknown.
        expect({ what, detail: res.body.detail }).toEqual({
          what,
          detail: 'The payee account cannot receive this transfer',
        });
      }
      const after = [await bank.balance(own.id)];
      for (const id of existing) after.push(await bank.balance(id));
      expect(after).toEqual(before);
    });

    it("paying another client: the source's own checks come first (funds, status)", async () => {
      const poor = await bank.open({ holderIds: [clientId], funding: '1.00' });
      const frozenOwn = await bank.open({ holderIds: [clientId], funding: '5.00' });
      const freeze = await t.http
        .patch(`/api/v1/accounts/${frozenOwn.id}`)
        .set(bearer(teller))
        .send({ status: 'frozen' });
      expect(freeze.status).toBe(200);
      for (const [, to] of [...(await unpayable()), ['active', foreign.id]]) {
        expectProblem(await mine.transfer(poor.id, to, '2.00'), 422, 'INSUFFICIENT_FUNDS');
        expectProblem(await mine.transfer(frozenOwn.id, to, '1.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      }
      expect(await bank.balance(poor.id)).toBe('1.00');
      expect(await bank.balance(frozenOwn.id)).toBe('5.00');
    });

    it('between its own accounts, and for staff, the codes stay precise', async () => {
      const frozenOwn = await bank.open({ holderIds: [clientId] });
      const freeze = await t.http
        .patch(`/api/v1/accounts/${frozenOwn.id}`)
        .set(bearer(teller))
        .send({ status: 'frozen' });
      expect(freeze.status).toBe(200);
      const dollarsOwn = await bank.open({ holderIds: [clientId], currency: 'USD' });
      expectProblem(await mine.transfer(own.id, frozenOwn.id, '1.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await mine.transfer(own.id, dollarsOwn.id, '1.00'), 422, 'CURRENCY_MISMATCH');

      const [missing, frozen, closed, dollars] = await unpayable();
      const funded = await bank.open({ funding: '10.00' });
      expectProblem(await bank.transfer(funded.id, missing[1], '1.00'), 404, 'NOT_FOUND');
      expectProblem(await bank.transfer(funded.id, frozen[1], '1.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(funded.id, closed[1], '1.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(funded.id, dollars[1], '1.00'), 422, 'CURRENCY_MISMATCH');
      expect(await bank.balance(funded.id)).toBe('10.00');
    });

    it('transfers from its account to someone else: 201, the credit leg reveals nothing', async () => {
      const res = await mine.transfer(own.id, foreign.id, { amount: '10.00', description: 'Gift' });
      expect(res.status).toBe(201);
      expect(res.body.id).toMatch(UUID);
      expect(res.body.amount).toBe('10.00');
      expectOperation(res.body.debit, {
        accountId: own.id,
        type: 'debit',
        kind: 'transfer',
        amount: '10.00',
        balanceAfter: '90.00',
        transferId: res.body.id,
      });
      expect(Object.keys(res.body.credit).sort()).toEqual(SUMMARY_KEYS);
      expect(res.body.credit).toEqual({
        id: expect.stringMatching(UUID),
        accountId: foreign.id,
        type: 'credit',
        amount: '10.00',
        createdAt: expect.stringMatching(ISO_UTC),
      });
      expect(JSON.stringify(res.body)).not.toContain('510.00');
      expect(await bank.balance(own.id)).toBe('90.00');
      expect(await bank.balance(foreign.id)).toBe('510.00');
    });

    it('between two of its own accounts the credit leg is the full operation', async () => {
      const res = await mine.transfer(own.id, ownSecond.id, '5.00');
      expect(res.status).toBe(201);
      expectOperation(res.body.credit, {
        accountId: ownSecond.id,
        type: 'credit',
        kind: 'transfer',
        balanceAfter: '5.00',
      });
    });

    it('may transfer from a joint account its client co-holds', async () => {
      const joint = await bank.open({
        holderIds: [await newClient('Other', 'Holder'), clientId],
        funding: '20.00',
      });
      const res = await mine.transfer(joint.id, foreign.id, '20.00');
      expect(res.status).toBe(201);
      expect(res.body.debit.balanceAfter).toBe('0.00');
      expect(await bank.balance(joint.id)).toBe('0.00');
    });

    it('a transfer from an account it does not hold is 404 and moves nothing', async () => {
      const before = [await bank.balance(own.id), await bank.balance(foreign.id)];
      expectProblem(await mine.transfer(foreign.id, own.id, '50.00'), 404, 'NOT_FOUND');
      expect([await bank.balance(own.id), await bank.balance(foreign.id)]).toEqual(before);
    });

    it('gets 403 on deposits, withdrawals and reversals, and nothing changes', async () => {
      const before = await bank.balance(own.id);
      const [last] = (await bank.operations(own.id)).body.items as Operation[];
      expectProblem(await mine.deposit(own.id, '1000.00'), 403, 'FORBIDDEN');
      expectProblem(await mine.withdraw(own.id, '1.00'), 403, 'FORBIDDEN');
      expectProblem(await mine.reverse(last.id), 403, 'FORBIDDEN');
      expect(await bank.balance(own.id)).toBe(before);
      const again = await t.http.get(`/api/v1/operations/${last.id}`).set(bearer(teller));
      expect(again.body.reversedBy).toBeNull();
    });

    it('reads the operations of its accounts, not of others', async () => {
      const list = await mine.operations(own.id);
      expect(list.status).toBe(200);
      expect(list.body.total).toBeGreaterThan(0);
      expectProblem(await mine.operations(foreign.id), 404, 'NOT_FOUND');

      const [ours] = list.body.items as Operation[];
      const one = await t.http.get(`/api/v1/operations/${ours.id}`).set(bearer(customer));
      expect(one.status).toBe(200);
      expect(one.headers['cache-control']).toBe('no-store');
      expect(one.body).toEqual(ours);

      const [theirs] = (await bank.operations(foreign.id)).body.items as Operation[];
      expectProblem(
        await t.http.get(`/api/v1/operations/${theirs.id}`).set(bearer(customer)),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await t.http.get(`/api/v1/operations/${randomUUID()}`).set(bearer(customer)),
        404,
        'NOT_FOUND',
      );
    });

    it('GET /operations is staff-only (403)', async () => {
      expectProblem(await t.http.get('/api/v1/operations').set(bearer(customer)), 403, 'FORBIDDEN');
      expectProblem(
        await t.http.get(`/api/v1/operations?accountId=${own.id}`).set(bearer(customer)),
        403,
        'FORBIDDEN',
      );
    });

    it('reads the statement of its account, not of others', async () => {
      const res = await t.http.get(`/api/v1/accounts/${own.id}/statement`).set(bearer(customer));
      expect(res.status).toBe(200);
      expect(res.body.account.id).toBe(own.id);
      expectProblem(
        await t.http.get(`/api/v1/accounts/${foreign.id}/statement`).set(bearer(customer)),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await t.http
          .get(`/api/v1/accounts/${foreign.id}/statement?format=csv`)
          .set(bearer(customer)),
        404,
        'NOT_FOUND',
      );
    });
  });

  describe('reversals', () => {
    it('of a deposit: 201 debit, kind reversal, reversalOf; the deposit shows reversedBy', async () => {
      const account = await bank.open({ funding: '10.00' });
      const dep = await bank.deposit(account.id, '40.00');
      expect(dep.status).toBe(201);
      const res = await bank.reverse(dep.body.id, { description: 'Entered twice' });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expectOperation(res.body, {
        accountId: account.id,
        type: 'debit',
        kind: 'reversal',
        amount: '40.00',
        balanceAfter: '10.00',
        description: 'Entered twice',
        reversalOf: dep.body.id,
        reversedBy: null,
        transferId: null,
        performedBy: tellerId,
      });
      expect(await bank.balance(account.id)).toBe('10.00');

      const original = await t.http.get(`/api/v1/operations/${dep.body.id}`).set(bearer(teller));
      expect(original.status).toBe(200);
      expect(original.body).toEqual({ ...dep.body, reversedBy: res.body.id });

      expectProblem(await bank.reverse(dep.body.id), 409, 'ALREADY_REVERSED');
      expect(await bank.balance(account.id)).toBe('10.00');
      expect(await operationCount(account.id)).toBe(3);
    });

    it('of a withdrawal: a credit', async () => {
      const account = await bank.open({ funding: '50.00' });
      const out = await bank.withdraw(account.id, '20.00');
      const res = await bank.reverse(out.body.id);
      expect(res.status).toBe(201);
      expectOperation(res.body, {
        accountId: account.id,
        type: 'credit',
        kind: 'reversal',
        amount: '20.00',
        balanceAfter: '50.00',
        reversalOf: out.body.id,
      });
      expect(await bank.balance(account.id)).toBe('50.00');
    });

    it.each(['debit', 'credit'] as const)(
      'given the %s leg of a transfer, both legs are reversed as a new transfer',
      async (given) => {
        const from = await bank.open({ funding: '100.00' });
        const to = await bank.open({ funding: '20.00' });
        const tr = await bank.transfer(from.id, to.id, '30.00');
        expect(tr.status).toBe(201);
        const leg: Operation = tr.body[given];
        const otherLeg: Operation = tr.body[given === 'debit' ? 'credit' : 'debit'];

        const res = await bank.reverse(leg.id);
        expect(res.status).toBe(201);
        expectOperation(res.body, {
          accountId: leg.accountId,
          type: given === 'debit' ? 'credit' : 'debit',
          kind: 'reversal',
          amount: '30.00',
          reversalOf: leg.id,
        });
        expect(res.body.transferId).toMatch(UUID);
        expect(res.body.transferId).not.toBe(tr.body.id);
        expect(await bank.balance(from.id)).toBe('100.00');
        expect(await bank.balance(to.id)).toBe('20.00');

        const [newest] = (await bank.operations(otherLeg.accountId)).body.items as Operation[];
        expectOperation(newest, {
          accountId: otherLeg.accountId,
          type: given === 'debit' ? 'debit' : 'credit',
          kind: 'reversal',
          amount: '30.00',
          reversalOf: otherLeg.id,
          transferId: res.body.transferId,
        });

        for (const original of [leg, otherLeg]) {
          const read = await t.http.get(`/api/v1/operations/${original.id}`).set(bearer(teller));
          expect(read.body.reversedBy).toBe(original.id === leg.id ? res.body.id : newest.id);
        }

        expectProblem(await bank.reverse(otherLeg.id), 409, 'ALREADY_REVERSED');
        expectProblem(await bank.reverse(leg.id), 409, 'ALREADY_REVERSED');
        expect(await bank.balance(from.id)).toBe('100.00');
        expect(await bank.balance(to.id)).toBe('20.00');
        expect(await operationCount(from.id)).toBe(3);
        expect(await operationCount(to.id)).toBe(3);
      },
    );

    it('of a deposit whose money was withdrawn meanwhile: 422 INSUFFICIENT_FUNDS, nothing changes', async () => {
      const account = await bank.open();
      const dep = await bank.deposit(account.id, '40.00');
      expect((await bank.withdraw(account.id, '35.00')).status).toBe(201);
      expectProblem(await bank.reverse(dep.body.id), 422, 'INSUFFICIENT_FUNDS');
      expect(await bank.balance(account.id)).toBe('5.00');
      expect(await operationCount(account.id)).toBe(2);
      const original = await t.http.get(`/api/v1/operations/${dep.body.id}`).set(bearer(teller));
      expect(original.body.reversedBy).toBeNull();
    });

    it.each([
      ['no body at all', undefined, undefined],
      ['an empty JSON body', 'application/json', undefined],
      ['{}', 'application/json', '{}'],
      ['an empty form (what axios sends)', 'application/x-www-form-urlencoded', undefined],
    ])('with %s: 201, description optional', async (_, type, body) => {
      const account = await bank.open();
      const dep = await bank.deposit(account.id, '7.00');
      let req = t.http.post(`/api/v1/operations/${dep.body.id}/reverse`).set(bearer(teller));
      if (type) req = req.set('Content-Type', type);
      const res = body === undefined ? await req : await req.send(body);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ kind: 'reversal', type: 'debit', reversalOf: dep.body.id });
      expect(await bank.balance(account.id)).toBe('0.00');
    });

    it('a body that is not an object is 400, and nothing is reversed', async () => {
      const account = await bank.open();
      const dep = await bank.deposit(account.id, '7.00');
      for (const body of ['null', '[]', '"x"']) {
        const res = await t.http
          .post(`/api/v1/operations/${dep.body.id}/reverse`)
          .set(bearer(teller))
          .set('Content-Type', 'application/json')
          .send(body);
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
      expect(await bank.balance(account.id)).toBe('7.00');
    });

    it('an unknown operation is 404, a malformed id 400', async () => {
      expectProblem(await bank.reverse(randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await bank.reverse('abc'), 400, 'VALIDATION_FAILED');
    });
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
        expect(cells).toHaveLength(7);
        const [date, id, kind, type, description, amount, balanceAfter] = cells;
        expect(Date.parse(date)).toBe(Date.parse(op.createdAt));
        expect(id).toBe(op.id);
        expect(kind).toBe(op.kind);
        expect(type).toBe(op.type);
        expect(description).toBe(op.description);
        expect(amount).toBe(op.type === 'debit' ? `-${op.amount}` : op.amount);
        expect(balanceAfter).toBe(op.balanceAfter);
      });
      expect(rows[1][5]).toBe('-25.00');
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

  describe('the money rule', () => {
    /** This block's own movements, so that it checks something when it runs alone. */
    let own: Account[];
    let ownTransfers: string[];
    /** Every account of this file's database: this block's, and every other test's that ran. */
    let accounts: Account[];
    /** Every operation of each of them, oldest first. */
    let ledgers: Map<string, Operation[]>;

    beforeAll(async () => {
      const a = await bank.open({ funding: '500.00', overdraftLimit: '50.00' });
      const b = await bank.open({ funding: '20.00' });
      const c = await bank.open();
      own = [a, b, c];
      expect((await bank.withdraw(a.id, '120.35')).status).toBe(201);
      expect((await bank.deposit(c.id, '0.10')).status).toBe(201);
      const ab = await bank.transfer(a.id, b.id, '75.25');
      expect(ab.status).toBe(201);
      const bc = await bank.transfer(b.id, c.id, '10.00');
      expect(bc.status).toBe(201);
      expectProblem(await bank.transfer(c.id, a.id, '1000.00'), 422, 'INSUFFICIENT_FUNDS');
      expectProblem(await bank.withdraw(b.id, '85.26'), 422, 'INSUFFICIENT_FUNDS');
      const ca = await bank.transfer(c.id, a.id, '5.05');
      expect(ca.status).toBe(201);
      const undone = await bank.reverse(ca.body.credit.id);
      expect(undone.status).toBe(201);
      const late = await bank.deposit(b.id, '3.00');
      expect(late.status).toBe(201);
      expect((await bank.reverse(late.body.id)).status).toBe(201);
      // Into the overdraft (c -> a and its reversal cancel out): 500.00 - 120.35 - 75.25 - 350.00.
      expect((await bank.withdraw(a.id, '350.00')).status).toBe(201);
      ownTransfers = [ab.body.id, bc.body.id, ca.body.id, undone.body.transferId];

      accounts = await allPages<Account>(t, teller, '/api/v1/accounts?limit=100');
      ledgers = new Map();
      for (const account of accounts) {
        const ops = await allPages<Operation>(
          t,
          teller,
          `/api/v1/accounts/${account.id}/operations?limit=100`,
        );
        ledgers.set(account.id, ops.reverse());
      }
    });

    it('for every account: balance = credits - debits, and the balanceAfter chain holds', async () => {
      expect(accounts.map((a) => a.id)).toEqual(expect.arrayContaining(own.map((a) => a.id)));
      expect(accounts.find((a) => a.id === own[0].id)?.balance).toBe('-45.60');
      for (const { id } of accounts) {
        const ops = ledgers.get(id)!;
        let running = 0n;
        let credits = 0n;
        let debits = 0n;
        for (const op of ops) {
          expect(op.accountId).toBe(id);
          const amount = cents(op.amount);
          expect(amount > 0n).toBe(true);
          if (op.type === 'credit') {
            credits += amount;
            running += amount;
          } else {
            debits += amount;
            running -= amount;
          }
          expect({ id, op: op.id, balanceAfter: cents(op.balanceAfter) }).toEqual({
            id,
            op: op.id,
            balanceAfter: running,
          });
        }
        const account = await t.http.get(`/api/v1/accounts/${id}`).set(bearer(teller));
        expect(account.status).toBe(200);
        expect({ id, balance: cents(account.body.balance) }).toEqual({
          id,
          balance: credits - debits,
        });
        expect(cents(account.body.balance) >= -cents(account.body.overdraftLimit)).toBe(true);
      }
    });

    it('every transfer is one debit and one credit of the same amount on two accounts', async () => {
      const legs = new Map<string, Operation[]>();
      for (const ops of ledgers.values()) {
        for (const op of ops) {
          if (op.transferId === null) continue;
          legs.set(op.transferId, [...(legs.get(op.transferId) ?? []), op]);
        }
      }
      expect([...legs.keys()]).toEqual(expect.arrayContaining(ownTransfers));
      for (const [transferId, pair] of legs) {
        expect({ transferId, types: pair.map((o) => o.type).sort() }).toEqual({
          transferId,
          types: ['credit', 'debit'],
        });
        expect(pair[0].accountId).not.toBe(pair[1].accountId);
        expect(cents(pair[0].amount)).toBe(cents(pair[1].amount));
      }
    });
  });
});
