/**
 * Transfers between accounts: both legs, the overdraft, same-account, currency, funds and unknown
 * accounts.
 */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import { Banking } from '../helpers/banking';
import { UUID, expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { countOperations, expectOperation } from '../helpers/operations';

describe('operations', () => {
  let t: TestApp;
  let teller: string;
  let tellerId: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, teller, tellerId, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const operationCount = (id: string) => countOperations(bank, id);

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
});
