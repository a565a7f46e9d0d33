/**
 * The money input rules for amount: which strings and JSON numbers a deposit, withdrawal or
 * transfer accepts.
 */
import { TestApp, bearer } from '../helpers/app';
import { Account, Banking, cents } from '../helpers/banking';
import { expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { countOperations } from '../helpers/operations';

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

  const operationCount = (id: string) => countOperations(bank, id);

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
});
