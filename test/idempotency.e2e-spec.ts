import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'supertest';
import { TestApp, bearer } from './helpers/app';
import {
  createAccount,
  createClient,
  createCustomer,
  createTeller,
  unique,
} from './helpers/banking';
import { expectProblem, expectReplayedProblem } from './helpers/expect';

const SUMMARY_KEYS = ['accountId', 'amount', 'createdAt', 'id', 'type'];

/** A first answer: not marked as a replay. */
function expectOriginal(res: Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['idempotent-replayed']).toBeUndefined();
}

/** The replay repeats the first answer exactly, marked Idempotent-Replayed: true. */
function expectReplayOf(replay: Response, original: Response): void {
  expect(replay.status).toBe(original.status);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.headers['content-type']?.split(';')[0]).toBe(
    original.headers['content-type']?.split(';')[0],
  );
  expect(replay.body).toEqual(original.body);
  expect(replay.headers['cache-control']).toBe('no-store');
  expect(replay.headers['x-request-id']).toEqual(expect.any(String));
}

const newKey = () => `key-${randomUUID()}`;

describe('idempotency', () => {
  let t: TestApp;
  let admin: string;
  let tellerA: string;
  let tellerB: string;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.adminToken();
    tellerA = (await createTeller(t, admin)).token;
    tellerB = (await createTeller(t, admin)).token;
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string, body: object, key?: string, token = tellerA) =>
    t.http
      .post(path)
      .set({ ...bearer(token), ...(key === undefined ? {} : { 'Idempotency-Key': key }) })
      .send(body);
  const deposit = (id: string, body: object, key?: string, token = tellerA) =>
    post(`/api/v1/accounts/${id}/deposits`, body, key, token);
  const withdraw = (id: string, body: object, key?: string, token = tellerA) =>
    post(`/api/v1/accounts/${id}/withdrawals`, body, key, token);
  const transfer = (body: object, key?: string, token = tellerA) =>
    post('/api/v1/transfers', body, key, token);
  const reverse = (id: string, body: object, key?: string, token = tellerA) =>
    post(`/api/v1/operations/${id}/reverse`, body, key, token);

  async function newClient(): Promise<string> {
    return (await createClient(t, tellerA, { firstName: 'Ida', lastName: 'Empotent' })).id;
  }
  async function openAccount(extra: object = {}, holderIds?: string[]): Promise<string> {
    const body = { holderIds: holderIds ?? [await newClient()], ...extra };
    return (await createAccount(t, tellerA, body)).id;
  }
  async function funded(amount: string): Promise<string> {
    const id = await openAccount();
    expect((await deposit(id, { amount })).status).toBe(201);
    return id;
  }
  /** Balance and operation count: what "no further effect" is checked against. */
  async function state(id: string): Promise<{ balance: string; operations: number }> {
    const account = await t.http.get(`/api/v1/accounts/${id}`).set(bearer(tellerA));
    expect(account.status).toBe(200);
    const ops = await t.http.get(`/api/v1/accounts/${id}/operations?limit=1`).set(bearer(tellerA));
    expect(ops.status).toBe(200);
    return { balance: account.body.balance, operations: ops.body.total };
  }

  describe('the same key with the same body replays the first answer', () => {
    it('on deposits', async () => {
      const account = await openAccount();
      const key = newKey();
      const body = { amount: '25.00', description: 'Cash in' };
      const first = await deposit(account, body, key);
      expectOriginal(first, 201);
      expect(first.body.balanceAfter).toBe('25.00');

      const second = await deposit(account, body, key);
      expectReplayOf(second, first);
      const third = await deposit(account, body, key);
      expectReplayOf(third, first);
      expect(await state(account)).toEqual({ balance: '25.00', operations: 1 });
    });

    it('on withdrawals', async () => {
      const account = await funded('100.00');
      const key = newKey();
      const first = await withdraw(account, { amount: '40.00' }, key);
      expectOriginal(first, 201);
      const replay = await withdraw(account, { amount: '40.00' }, key);
      expectReplayOf(replay, first);
      expect(await state(account)).toEqual({ balance: '60.00', operations: 2 });
    });

    it('on transfers', async () => {
      const from = await funded('100.00');
      const to = await openAccount();
      const key = newKey();
      const body = { fromAccountId: from, toAccountId: to, amount: '30.00' };
      const first = await transfer(body, key);
      expectOriginal(first, 201);
      const replay = await transfer(body, key);
      expectReplayOf(replay, first);
      expect(await state(from)).toEqual({ balance: '70.00', operations: 2 });
      expect(await state(to)).toEqual({ balance: '30.00', operations: 1 });
    });

    it('on reversals (the replay is not a second reversal)', async () => {
      const account = await openAccount();
      const dep = await deposit(account, { amount: '15.00' });
      expect(dep.status).toBe(201);
      const key = newKey();
      const first = await reverse(dep.body.id, { description: 'Mistake' }, key);
      expectOriginal(first, 201);
      expect(first.body.reversalOf).toBe(dep.body.id);
      const replay = await reverse(dep.body.id, { description: 'Mistake' }, key);
      expectReplayOf(replay, first);
      expect(await state(account)).toEqual({ balance: '0.00', operations: 2 });

      expectProblem(
        await reverse(dep.body.id, { description: 'Mistake' }),
        409,
        'ALREADY_REVERSED',
      );
    });

    it('on a customer transfer, whose replay reveals no more than the first answer', async () => {
      const clientId = await newClient();
      const own = await openAccount({}, [clientId]);
      expect((await deposit(own, { amount: '50.00' })).status).toBe(201);
      const foreign = await funded('999.00');
      const customer = await createCustomer(t, admin, clientId);

      const key = newKey();
      const body = { fromAccountId: own, toAccountId: foreign, amount: '5.00' };
      const first = await transfer(body, key, customer);
      expectOriginal(first, 201);
      expect(Object.keys(first.body.credit).sort()).toEqual(SUMMARY_KEYS);
      const replay = await transfer(body, key, customer);
      expectReplayOf(replay, first);
      expect(Object.keys(replay.body.credit).sort()).toEqual(SUMMARY_KEYS);
      expect(await state(own)).toEqual({ balance: '45.00', operations: 2 });
      expect(await state(foreign)).toEqual({ balance: '1004.00', operations: 2 });
    });
  });

  describe('a key is bound to its body and route', () => {
    it('a different body with the same key is 422 IDEMPOTENCY_KEY_REUSED and does nothing', async () => {
      const account = await openAccount();
      const key = newKey();
      expectOriginal(await deposit(account, { amount: '10.00' }, key), 201);

      expectProblem(
        await deposit(account, { amount: '11.00' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(
        await deposit(account, { amount: '10.00', description: 'other' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await state(account)).toEqual({ balance: '10.00', operations: 1 });
    });

    it('a different transfer body with the same key is 422 and moves nothing', async () => {
      const from = await funded('100.00');
      const to = await openAccount();
      const third = await openAccount();
      const key = newKey();
      expectOriginal(
        await transfer({ fromAccountId: from, toAccountId: to, amount: '10.00' }, key),
        201,
      );
      expectProblem(
        await transfer({ fromAccountId: from, toAccountId: third, amount: '10.00' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await state(from)).toEqual({ balance: '90.00', operations: 2 });
      expect(await state(to)).toEqual({ balance: '10.00', operations: 1 });
      expect(await state(third)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('the same key on a different route is 422 and does nothing', async () => {
      const account = await funded('100.00');
      const other = await funded('100.00');
      const key = newKey();
      const body = { amount: '10.00' };
      expectOriginal(await deposit(account, body, key), 201);

      expectProblem(await deposit(other, body, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(await withdraw(account, body, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(
        await transfer({ fromAccountId: account, toAccountId: other, amount: '10.00' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await state(account)).toEqual({ balance: '110.00', operations: 2 });
      expect(await state(other)).toEqual({ balance: '100.00', operations: 1 });
    });

    it('a key used for a reversal cannot reverse another operation', async () => {
      const account = await openAccount();
      const one = await deposit(account, { amount: '1.00' });
      const two = await deposit(account, { amount: '2.00' });
      const key = newKey();
      expectOriginal(await reverse(one.body.id, {}, key), 201);
      expectProblem(await reverse(two.body.id, {}, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await state(account)).toEqual({ balance: '2.00', operations: 3 });
    });
  });

  describe('the key itself', () => {
    it('a key of 256 characters is 400 and does nothing; 255 is accepted', async () => {
      const account = await openAccount();
      expectProblem(
        await deposit(account, { amount: '10.00' }, 'k'.repeat(256)),
        400,
        'VALIDATION_FAILED',
      );
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });

      const longest = 'k'.repeat(254) + randomUUID().slice(0, 1);
      const first = await deposit(account, { amount: '10.00' }, longest);
      expectOriginal(first, 201);
      expectReplayOf(await deposit(account, { amount: '10.00' }, longest), first);
      expect(await state(account)).toEqual({ balance: '10.00', operations: 1 });
    });

    it('an empty key is 400', async () => {
      const account = await openAccount();
      expectProblem(await deposit(account, { amount: '10.00' }, ''), 400, 'VALIDATION_FAILED');
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });
    });

    it("another user's identical key is a different key: two tellers, two effects", async () => {
      const account = await openAccount();
      const key = newKey();
      const body = { amount: '10.00' };
      const a = await deposit(account, body, key, tellerA);
      const b = await deposit(account, body, key, tellerB);
      expectOriginal(a, 201);
      expectOriginal(b, 201);
      expect(b.body.id).not.toBe(a.body.id);
      expect(b.body.balanceAfter).toBe('20.00');
      expect(await state(account)).toEqual({ balance: '20.00', operations: 2 });

      expectReplayOf(await deposit(account, body, key, tellerA), a);
      expectReplayOf(await deposit(account, body, key, tellerB), b);
      expect(await state(account)).toEqual({ balance: '20.00', operations: 2 });
    });

    it('requests without a key are never deduplicated', async () => {
      const account = await openAccount();
      expect((await deposit(account, { amount: '1.00' })).status).toBe(201);
      const second = await deposit(account, { amount: '1.00' });
      expectOriginal(second, 201);
      expect(await state(account)).toEqual({ balance: '2.00', operations: 2 });
    });
  });

  describe('what is stored', () => {
    it('a 422 INSUFFICIENT_FUNDS is replayed even after money was deposited meanwhile', async () => {
      const account = await openAccount();
      const key = newKey();
      const first = await withdraw(account, { amount: '50.00' }, key);
      expectProblem(first, 422, 'INSUFFICIENT_FUNDS');
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      expect((await deposit(account, { amount: '100.00' })).status).toBe(201);
      const replay = await withdraw(account, { amount: '50.00' }, key);
      expectReplayOf(replay, first);
      expectReplayedProblem(replay, 422, 'INSUFFICIENT_FUNDS');
      expect(await state(account)).toEqual({ balance: '100.00', operations: 1 });

      // Without the key the same withdrawal now goes through.
      expect((await withdraw(account, { amount: '50.00' })).status).toBe(201);
    });

    it('a 422 on a transfer is replayed too', async () => {
      const from = await openAccount();
      const to = await openAccount();
      const key = newKey();
      const body = { fromAccountId: from, toAccountId: to, amount: '5.00' };
      const first = await transfer(body, key);
      expectProblem(first, 422, 'INSUFFICIENT_FUNDS');
      expect((await deposit(from, { amount: '10.00' })).status).toBe(201);
      expectReplayOf(await transfer(body, key), first);
      expect(await state(from)).toEqual({ balance: '10.00', operations: 1 });
      expect(await state(to)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('a 409 ACCOUNT_NOT_ACTIVE is replayed after the account is unfrozen', async () => {
      const account = await openAccount();
      const frozen = await t.http
        .patch(`/api/v1/accounts/${account}`)
        .set(bearer(tellerA))
        .send({ status: 'frozen' });
      expect(frozen.status).toBe(200);
      const key = newKey();
      const first = await deposit(account, { amount: '10.00' }, key);
      expectProblem(first, 409, 'ACCOUNT_NOT_ACTIVE');
      const active = await t.http
        .patch(`/api/v1/accounts/${account}`)
        .set(bearer(tellerA))
        .send({ status: 'active' });
      expect(active.status).toBe(200);
      expectReplayOf(await deposit(account, { amount: '10.00' }, key), first);
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('a request that failed validation stores nothing: the key then works with a valid body', async () => {
      const account = await openAccount();
      const key = newKey();
      expectProblem(await deposit(account, { amount: 'abc' }, key), 400, 'VALIDATION_FAILED');
      expectProblem(
        await deposit(account, { amount: '5.00', extra: true }, key),
        400,
        'VALIDATION_FAILED',
      );
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });

      const valid = await deposit(account, { amount: '5.00' }, key);
      expectOriginal(valid, 201);
      expect(valid.body.balanceAfter).toBe('5.00');
      expectReplayOf(await deposit(account, { amount: '5.00' }, key), valid);
      expect(await state(account)).toEqual({ balance: '5.00', operations: 1 });
    });

    it('parallel requests with one key have exactly one effect', async () => {
      const account = await openAccount();
      const key = newKey();
      const results = await Promise.all(
        Array.from({ length: 6 }, () => deposit(account, { amount: '7.00' }, key)),
      );
      const originals = results.filter(
        (r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined,
      );
      expect(originals).toHaveLength(1);
      for (const res of results) {
        if (res === originals[0]) continue;
        if (res.status === 409) expectProblem(res, 409, 'IDEMPOTENCY_KEY_IN_USE');
        else expectReplayOf(res, originals[0]);
      }
      expect(await state(account)).toEqual({ balance: '7.00', operations: 1 });
      expectReplayOf(await deposit(account, { amount: '7.00' }, key), originals[0]);
    });
  });
});

describe('idempotency across a restart', () => {
  it('a key survives a restart: the replay is marked and has no effect', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bank-e2e-'));
    const first = await TestApp.start({ DATA_DIR: dataDir });
    let database: string | undefined;
    try {
      const admin = await first.adminToken();
      const client = await createClient(first, admin, {
        nationalId: unique('R'),
        firstName: 'Rita',
        lastName: 'Restart',
      });
      const { id } = await createAccount(first, admin, { holderIds: [client.id] });
      const key = newKey();
      const deposit = (app: TestApp, amount: string) =>
        app.http
          .post(`/api/v1/accounts/${id}/deposits`)
          .set(bearer(admin))
          .set('Idempotency-Key', key)
          .send({ amount });
      const original = await deposit(first, '42.00');
      expectOriginal(original, 201);

      database = first.database ?? undefined;
      await first.app.close();
      const second = await TestApp.start({ DATA_DIR: dataDir }, database ? { database } : {});
      try {
        const replay = await deposit(second, '42.00');
        expectReplayOf(replay, original);
        expectProblem(await deposit(second, '43.00'), 422, 'IDEMPOTENCY_KEY_REUSED');

        const read = await second.http.get(`/api/v1/accounts/${id}`).set(bearer(admin));
        expect(read.status).toBe(200);
        expect(read.body.balance).toBe('42.00');
        const ops = await second.http.get(`/api/v1/accounts/${id}/operations`).set(bearer(admin));
        expect(ops.body.total).toBe(1);
        expect(ops.body.items[0].id).toBe(original.body.id);
      } finally {
        await second.app.close();
      }
    } finally {
      await first.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
