/** Amounts stay exact: decimal sums and the largest amount round-trip. */
import { TestApp } from '../helpers/app';
import { Banking } from '../helpers/banking';
import { withTeller } from '../helpers/fixture';

describe('operations', () => {
  let t: TestApp;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
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
});
