/**
 * The audit log of money: every deposit, withdrawal, transfer and reversal
 * has its event, written by the same statement or transaction that moves the
 * money (none without the other), and a money request a rule refuses is
 * recorded apart with `outcome: "refused"` and its code.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { Banking, banking, createClient, createCustomer } from './helpers/banking';
import { withTeller } from './helpers/fixture';

interface ShownEvent {
  type: string;
  actor: { id: string; username: string; role: string } | null;
  subject: { type: string; id: string } | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

describe('the audit log of money', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let tellerId: string;
  let tellerName: string;
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller, tellerId, tellerName, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const events = async (query: Record<string, string>): Promise<ShownEvent[]> => {
    const res = await t.http
      .get(`/api/v1/audit-events?${new URLSearchParams({ limit: '100', ...query }).toString()}`)
      .set(bearer(admin));
    expect(res.status).toBe(200);
    return res.body.items as ShownEvent[];
  };
  const tellerActor = () => ({ id: tellerId, username: tellerName, role: 'teller' });

  it('records a deposit and a withdrawal by the statement that makes them, with amounts and balance', async () => {
    const account = await bank.open();
    const requestId = randomUUID();
    const deposit = await t.http
      .post(`/api/v1/accounts/${account.id}/deposits`)
      .set(bearer(teller))
      .set('X-Request-Id', requestId)
      .send({ amount: '100.50' });
    expect(deposit.status).toBe(201);
    const withdrawal = await bank.withdraw(account.id, '0.50');
    expect(withdrawal.status).toBe(201);
    const [d] = await events({ type: 'operation.deposit', subjectId: deposit.body.id });
    expect(d).toMatchObject({
      actor: tellerActor(),
      subject: { type: 'operation', id: deposit.body.id },
      outcome: 'succeeded',
      reason: null,
      requestId,
      data: { accountId: account.id, amount: '100.50', balanceAfter: '100.50' },
    });
    const [w] = await events({ type: 'operation.withdrawal', subjectId: withdrawal.body.id });
    expect(w.data).toEqual({ accountId: account.id, amount: '0.50', balanceAfter: '100.00' });
  });

  it('records a transfer once, for both legs, and its reversal', async () => {
    const from = await bank.open({ funding: '50.00' });
    const to = await bank.open();
    const transfer = await bank.transfer(from.id, to.id, '20.00');
    expect(transfer.status).toBe(201);
    const found = await events({ type: 'operation.transfer', subjectId: transfer.body.id });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      actor: tellerActor(),
      subject: { type: 'transfer', id: transfer.body.id },
      outcome: 'succeeded',
      data: { fromAccountId: from.id, toAccountId: to.id, amount: '20.00' },
    });

    const reverse = await t.http
      .post(`/api/v1/operations/${transfer.body.debit.id}/reverse`)
      .set(bearer(teller))
      .send({});
    expect(reverse.status).toBe(201);
    const [reversal] = await events({
      type: 'operation.reversal',
      subjectId: transfer.body.debit.id,
    });
    expect(reversal).toMatchObject({ actor: tellerActor(), outcome: 'succeeded' });
    expect(reversal.data.legs).toHaveLength(2);
  });

  it('records a refused request apart, with its code, and nothing as succeeded', async () => {
    const account = await bank.open({ funding: '10.00' });
    const refused = await bank.withdraw(account.id, '10.01');
    expect(refused.status).toBe(422);
    const found = await events({ type: 'operation.withdrawal', actorId: tellerId });
    const mine = found.filter((e) => e.data.accountId === account.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      outcome: 'refused',
      reason: 'INSUFFICIENT_FUNDS',
      subject: null,
      data: { accountId: account.id, amount: '10.01' },
    });
    // A second reversal of the same operation: ALREADY_REVERSED, recorded as refused.
    const deposit = await bank.deposit(account.id, '1.00');
    const path = `/api/v1/operations/${deposit.body.id}/reverse`;
    expect((await t.http.post(path).set(bearer(teller)).send({})).status).toBe(201);
    expect((await t.http.post(path).set(bearer(teller)).send({})).status).toBe(409);
    const reversals = (await events({ type: 'operation.reversal', actorId: tellerId })).filter(
      (e) => e.data.operationId === deposit.body.id || e.subject?.id === deposit.body.id,
    );
    expect(reversals.map((e) => [e.outcome, e.reason]).sort()).toEqual([
      ['refused', 'ALREADY_REVERSED'],
      ['succeeded', null],
    ]);
  });

  it('records a customer refused payee as PAYEE_UNAVAILABLE, naming the customer', async () => {
    const client = await createClient(t, teller);
    const own = await bank.open({ holderIds: [client.id], funding: '30.00' });
    const frozen = await bank.open();
    expect(
      (
        await t.http
          .patch(`/api/v1/accounts/${frozen.id}`)
          .set(bearer(teller))
          .send({ status: 'frozen' })
      ).status,
    ).toBe(200);
    const customer = await createCustomer(t, admin, client.id);
    const pays = banking(t, customer);
    const res = await pays.transferBody({
      fromAccountId: own.id,
      toAccountNumber: frozen.number,
      amount: '5.00',
    });
    expect(res.status).toBe(422);
    const found = (await events({ type: 'operation.transfer' })).filter(
      (e) => e.data.fromAccountId === own.id,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      outcome: 'refused',
      reason: 'PAYEE_UNAVAILABLE',
      actor: { role: 'customer' },
      data: { toAccountNumber: frozen.number, amount: '5.00' },
    });
  });

  it('writes as many events as operations: none lost, none extra, under parallel deposits', async () => {
    const account = await bank.open();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => bank.deposit(account.id, '1.00')),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const db = t.app.get(DataSource);
    const [{ n }] = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_events
        WHERE type = 'operation.deposit' AND outcome = 'succeeded' AND data->>'accountId' = $1`,
      [account.id],
    );
    expect(n).toBe(10);
  });
});
