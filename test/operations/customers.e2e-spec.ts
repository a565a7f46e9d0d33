/**
 * What a customer may do with operations: pay from its accounts, read their operations and
 * statements, nothing more.
 */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import {
  Account,
  Banking,
  Operation,
  banking,
  createClient,
  createCustomer,
} from '../helpers/banking';
import { ISO_UTC, UUID, expectFieldError, expectProblem } from '../helpers/expect';
import { withTeller } from '../helpers/fixture';
import { csvCounterparties, expectOperation, unusedAccountNumber } from '../helpers/operations';

const SUMMARY_KEYS = ['accountId', 'amount', 'counterparty', 'createdAt', 'id', 'type'];

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

  async function newClient(firstName = 'Ada', lastName = 'Lovelace'): Promise<string> {
    return (await createClient(t, teller, { firstName, lastName })).id;
  }
  const newCustomer = (clientId: string) => createCustomer(t, admin, clientId);

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

    /** Accounts of another client that cannot be paid, each for another reason: [why, id, number]. */
    async function unpayable(): Promise<Array<[string, string, string]>> {
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
        ['missing', randomUUID(), unusedAccountNumber()],
        ['frozen', frozen.id, frozen.number],
        ['closed', closed.id, closed.number],
        ['in another currency', dollars.id, dollars.number],
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
        counterparty: { accountNumber: own.number, name: 'Cora Customer' },
      });
      expect(res.body.debit.counterparty).toEqual({
        accountNumber: foreign.number,
        name: 'Ada Lovelace',
      });
      expect(JSON.stringify(res.body)).not.toContain('510.00');
      expect(await bank.balance(own.id)).toBe('90.00');
      expect(await bank.balance(foreign.id)).toBe('510.00');
    });

    it('pays someone by account number: the debit names the payee, the credit shows no balance', async () => {
      const payee = await bank.open({
        holderIds: [await newClient('Grace', 'Hopper')],
        funding: '700.00',
      });
      const payer = await bank.open({ holderIds: [clientId], funding: '50.00' });
      const res = await mine.transferBody({
        fromAccountId: payer.id,
        toAccountNumber: payee.number,
        amount: '12.00',
        description: 'Books',
      });
      expect(res.status).toBe(201);
      expectOperation(res.body.debit, {
        accountId: payer.id,
        balanceAfter: '38.00',
        counterparty: { accountNumber: payee.number, name: 'Grace Hopper' },
      });
      expect(Object.keys(res.body.credit).sort()).toEqual(SUMMARY_KEYS);
      expect(res.body.credit).toEqual({
        id: expect.stringMatching(UUID),
        accountId: payee.id,
        type: 'credit',
        amount: '12.00',
        createdAt: expect.stringMatching(ISO_UTC),
        counterparty: { accountNumber: payer.number, name: 'Cora Customer' },
      });
      expect(res.body.credit).not.toHaveProperty('balanceAfter');
      expect(JSON.stringify(res.body)).not.toContain('712.00');
      expect(await bank.balance(payee.id)).toBe('712.00');

      // The customer's history, statement JSON and CSV name the payee.
      const [debit] = (await mine.operations(payer.id)).body.items as Operation[];
      expect(debit).toEqual(res.body.debit);
      const json = await t.http.get(`/api/v1/accounts/${payer.id}/statement`).set(bearer(customer));
      expect(json.body.operations[1]).toEqual(res.body.debit);
      const csv = await t.http
        .get(`/api/v1/accounts/${payer.id}/statement?format=csv`)
        .set(bearer(customer));
      expect(csvCounterparties(csv.text).get(debit.id)).toBe(`${payee.number} Grace Hopper`);
      // The payee's side names the payer.
      const [credit] = (await bank.operations(payee.id)).body.items as Operation[];
      expect(credit).toMatchObject({
        id: res.body.credit.id,
        balanceAfter: '712.00',
        counterparty: { accountNumber: payer.number, name: 'Cora Customer' },
      });
      const payeeCsv = await t.http
        .get(`/api/v1/accounts/${payee.id}/statement?format=csv`)
        .set(bearer(teller));
      expect(csvCounterparties(payeeCsv.text).get(credit.id)).toBe(`${payer.number} Cora Customer`);
    });

    it('paying a joint account by number names all its holders, in the order they were added', async () => {
      const joint = await bank.open({ holderIds: [await newClient('Ada', 'Lovelace')] });
      const added = await t.http
        .post(`/api/v1/accounts/${joint.id}/holders`)
        .set(bearer(teller))
        .send({ clientId: await newClient('Charles', 'Babbage') });
      expect(added.status).toBe(200);
      const res = await mine.transferBody({
        fromAccountId: own.id,
        toAccountNumber: joint.number,
        amount: '1.00',
      });
      expect(res.status).toBe(201);
      expect(res.body.debit.counterparty).toEqual({
        accountNumber: joint.number,
        name: 'Ada Lovelace & Charles Babbage',
      });
    });

    it('paying by number: no such number, frozen, closed or another currency is one answer, 422 PAYEE_UNAVAILABLE', async () => {
      const before = await bank.balance(own.id);
      for (const [what, , number] of await unpayable()) {
        const res = await mine.transferBody({
          fromAccountId: own.id,
          toAccountNumber: number,
          amount: '1.00',
        });
        expectProblem(res, 422, 'PAYEE_UNAVAILABLE');
        expect({ what, detail: res.body.detail }).toEqual({
          what,
          detail: 'The payee account cannot receive this transfer',
        });
      }
      expect(await bank.balance(own.id)).toBe(before);
    });

    it("paying by number: the source's own checks still come first", async () => {
      const poor = await bank.open({ holderIds: [clientId], funding: '1.00' });
      for (const [, , number] of [...(await unpayable()), ['active', foreign.id, foreign.number]]) {
        const res = await mine.transferBody({
          fromAccountId: poor.id,
          toAccountNumber: number,
          amount: '2.00',
        });
        expectProblem(res, 422, 'INSUFFICIENT_FUNDS');
      }
      expectProblem(
        await mine.transferBody({
          fromAccountId: foreign.id,
          toAccountNumber: unusedAccountNumber(),
          amount: '1.00',
        }),
        404,
        'NOT_FOUND',
      );
      expect(await bank.balance(poor.id)).toBe('1.00');
    });

    it('its own account by number is a transfer between its own accounts: full credit, precise codes', async () => {
      const target = await bank.open({ holderIds: [clientId] });
      const res = await mine.transferBody({
        fromAccountId: own.id,
        toAccountNumber: target.number,
        amount: '2.00',
      });
      expect(res.status).toBe(201);
      expectOperation(res.body.credit, {
        accountId: target.id,
        balanceAfter: '2.00',
        counterparty: { accountNumber: own.number, name: 'Cora Customer' },
      });
      const dollarsOwn = await bank.open({ holderIds: [clientId], currency: 'USD' });
      expectProblem(
        await mine.transferBody({
          fromAccountId: own.id,
          toAccountNumber: dollarsOwn.number,
          amount: '1.00',
        }),
        422,
        'CURRENCY_MISMATCH',
      );
      expectFieldError(
        await mine.transferBody({
          fromAccountId: own.id,
          toAccountNumber: own.number,
          amount: '1.00',
        }),
        'toAccountNumber',
      );
      expectFieldError(
        await mine.transferBody({ fromAccountId: own.id, amount: '1.00' }),
        'toAccountNumber',
      );
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
});
