/** Reversals of deposits, withdrawals and transfers. */
import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from '../helpers/app';
import { Banking, Operation } from '../helpers/banking';
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
});
