/**
 * Transfers between accounts: both legs, the overdraft, same-account, currency, funds and unknown
 * accounts; by account number; the counterparty of each leg.
 */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import { Account, Banking, Operation, createClient } from '../helpers/banking';
import { UUID, expectFieldError, expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import {
  countOperations,
  csvCounterparties,
  expectOperation,
  unusedAccountNumber,
  withWrongCheckDigit,
} from '../helpers/operations';

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

  describe('transfers by account number, and counterparties', () => {
    /** The name a statement gives an account: its holders, in order, joined by " & ". */
    const nameOf = (account: Account) =>
      account.holders.map((h) => `${h.firstName} ${h.lastName}`).join(' & ');
    const statementOf = (id: string, query = '') =>
      t.http.get(`/api/v1/accounts/${id}/statement?${query}`).set(bearer(teller));

    async function jointAccount(funding?: string): Promise<Account> {
      const ada = await createClient(t, teller, { firstName: 'Ada', lastName: 'Lovelace' });
      const charles = await createClient(t, teller, { firstName: 'Charles', lastName: 'Babbage' });
      const account = await bank.open({ holderIds: [ada.id], funding });
      const added = await t.http
        .post(`/api/v1/accounts/${account.id}/holders`)
        .set(bearer(teller))
        .send({ clientId: charles.id });
      expect(added.status).toBe(200);
      return added.body as Account;
    }

    it('pays toAccountNumber; each leg names the other account, in the answer and everywhere after', async () => {
      const grace = await createClient(t, teller, { firstName: 'Grace', lastName: 'Hopper' });
      const from = await bank.open({ holderIds: [grace.id], funding: '100.00' });
      const to = await jointAccount('5.00');
      expect(nameOf(to)).toBe('Ada Lovelace & Charles Babbage');

      const res = await bank.transferBody({
        fromAccountId: from.id,
        toAccountNumber: to.number,
        amount: '12.34',
        description: 'Invoice, 7',
      });
      expect(res.status).toBe(201);
      const payer = { accountNumber: from.number, name: 'Grace Hopper' };
      const payee = { accountNumber: to.number, name: 'Ada Lovelace & Charles Babbage' };
      expectOperation(res.body.debit, {
        accountId: from.id,
        balanceAfter: '87.66',
        transferId: res.body.id,
        counterparty: payee,
      });
      expectOperation(res.body.credit, {
        accountId: to.id,
        balanceAfter: '17.34',
        transferId: res.body.id,
        counterparty: payer,
      });
      expect(await bank.balance(from.id)).toBe('87.66');
      expect(await bank.balance(to.id)).toBe('17.34');

      for (const [leg, account] of [
        [res.body.debit, from],
        [res.body.credit, to],
      ] as Array<[Operation, Account]>) {
        const one = await t.http.get(`/api/v1/operations/${leg.id}`).set(bearer(teller));
        expect(one.body).toEqual(leg);
        const [newest, funding] = (await bank.operations(account.id)).body.items as Operation[];
        expect(newest).toEqual(leg);
        expect(funding.counterparty).toBeNull();
        const wide = await t.http
          .get(`/api/v1/operations?accountId=${account.id}&limit=1`)
          .set(bearer(teller));
        expect(wide.body.items).toEqual([leg]);
        const json = await statementOf(account.id);
        expect(json.status).toBe(200);
        expect(json.body.operations).toEqual([funding, leg]);
        const csv = csvCounterparties((await statementOf(account.id, 'format=csv')).text);
        expect(csv.get(funding.id)).toBe('');
        expect(csv.get(leg.id)).toBe(
          `${leg.counterparty!.accountNumber} ${leg.counterparty!.name}`,
        );
      }
      const bankWide = await t.http.get('/api/v1/operations?limit=2').set(bearer(teller));
      expect(bankWide.body.items).toHaveLength(2);
      expect(bankWide.body.items).toEqual(
        expect.arrayContaining([res.body.debit, res.body.credit]),
      );
    });

    it('a counterparty name is CSV-escaped and its formula neutralised', async () => {
      const odd = await createClient(t, teller, { firstName: '=Sum', lastName: 'O"Neil, Jr' });
      const from = await bank.open({ funding: '10.00' });
      const to = await bank.open({ holderIds: [odd.id] });
      const res = await bank.transfer(from.id, to.id, '1.00');
      expect(res.status).toBe(201);
      expect(res.body.debit.counterparty).toEqual({
        accountNumber: to.number,
        name: '=Sum O"Neil, Jr',
      });
      const csv = await statementOf(from.id, 'format=csv');
      expect(csv.text).toContain(`,"${to.number} =Sum O""Neil, Jr",-1.00,`);
    });

    it('deposits and withdrawals have none; reversing a transfer gives both new legs their counterparty', async () => {
      const from = await bank.open({ funding: '50.00' });
      const to = await jointAccount();
      const withdrawal = await bank.withdraw(from.id, '1.00');
      expect(withdrawal.body.counterparty).toBeNull();
      const undo = await bank.reverse(withdrawal.body.id);
      expect(undo.status).toBe(201);
      expect(undo.body.counterparty).toBeNull();

      const paid = await bank.transfer(from.id, to.id, '20.00');
      const reversal = await bank.reverse(paid.body.credit.id);
      expect(reversal.status).toBe(201);
      expect(reversal.body).toMatchObject({
        accountId: to.id,
        kind: 'reversal',
        counterparty: { accountNumber: from.number, name: nameOf(from) },
      });
      const [back] = (await bank.operations(from.id)).body.items as Operation[];
      expect(back).toMatchObject({
        kind: 'reversal',
        type: 'credit',
        counterparty: { accountNumber: to.number, name: 'Ada Lovelace & Charles Babbage' },
      });
      const [reversed] = (await bank.operations(to.id)).body.items as Operation[];
      expect(reversed).toEqual(reversal.body);
    });

    it('a number that names no account is 422 UNKNOWN_ACCOUNT_NUMBER; frozen, closed, another currency keep their codes', async () => {
      const from = await bank.open({ funding: '10.00' });
      const frozen = await bank.open();
      const freeze = await t.http
        .patch(`/api/v1/accounts/${frozen.id}`)
        .set(bearer(teller))
        .send({ status: 'frozen' });
      expect(freeze.status).toBe(200);
      const closed = await bank.open();
      expect(
        (await t.http.post(`/api/v1/accounts/${closed.id}/close`).set(bearer(teller))).status,
      ).toBe(200);
      const dollars = await bank.open({ currency: 'USD' });
      const pay = (toAccountNumber: string) =>
        bank.transferBody({ fromAccountId: from.id, toAccountNumber, amount: '1.00' });

      const unknown = await pay(unusedAccountNumber());
      expectProblem(unknown, 422, 'UNKNOWN_ACCOUNT_NUMBER');
      expectProblem(await pay(frozen.number), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await pay(closed.number), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await pay(dollars.number), 422, 'CURRENCY_MISMATCH');
      expect(await bank.balance(from.id)).toBe('10.00');
      expect(await operationCount(from.id)).toBe(1);
    });

    it('both destinations, neither, a malformed number, or the source’s own number: 400, nothing moves', async () => {
      const from = await bank.open({ funding: '10.00' });
      const to = await bank.open();
      const body = { fromAccountId: from.id, amount: '1.00' };

      const both = await bank.transferBody({
        ...body,
        toAccountId: to.id,
        toAccountNumber: to.number,
      });
      expectFieldError(both, 'toAccountId');
      expectFieldError(both, 'toAccountNumber');
      const neither = await bank.transferBody(body);
      expectFieldError(neither, 'toAccountId');
      expectFieldError(neither, 'toAccountNumber');
      expect(both.body.errors).toContainEqual({
        field: 'toAccountNumber',
        message: 'give exactly one of toAccountId and toAccountNumber',
      });
      for (const malformed of [
        withWrongCheckDigit(to.number),
        to.number.slice(0, 10),
        `${to.number}0`,
        `${to.number.slice(0, 10)}x`,
        ` ${to.number}`,
        Number(to.number),
        '',
        null,
      ]) {
        const res = await bank.transferBody({ ...body, toAccountNumber: malformed });
        expectFieldError(res, 'toAccountNumber');
      }
      expectFieldError(
        await bank.transferBody({ ...body, toAccountNumber: from.number }),
        'toAccountNumber',
      );
      expect(await bank.balance(from.id)).toBe('10.00');
      expect(await bank.balance(to.id)).toBe('0.00');
      expect(await operationCount(from.id)).toBe(1);
    });

    it('an Idempotency-Key replays a transfer by number; the same key with toAccountId is another body', async () => {
      const from = await bank.open({ funding: '10.00' });
      const to = await bank.open();
      const key = randomUUID();
      const body = { fromAccountId: from.id, toAccountNumber: to.number, amount: '3.00' };
      const first = await bank.transferBody(body, key);
      expect(first.status).toBe(201);
      const again = await bank.transferBody(body, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expectProblem(
        await bank.transferBody(
          { fromAccountId: from.id, toAccountId: to.id, amount: '3.00' },
          key,
        ),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await bank.balance(from.id)).toBe('7.00');
    });
  });
});
