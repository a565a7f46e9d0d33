/**
 * Deposits and withdrawals: the operation each answers, the overdraft limit, unknown accounts and
 * fields.
 */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import { Banking, banking } from '../helpers/banking';
import { expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { countOperations, expectOperation } from '../helpers/operations';

describe('operations', () => {
  let t: TestApp;
  let admin: string;
  let tellerId: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, tellerId, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const operationCount = (id: string) => countOperations(bank, id);

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
});
