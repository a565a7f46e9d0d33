import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { inTransaction } from '../src/common/transactions';
import { canonicalJson } from '../src/idempotency/idempotency';
import { IdempotencyKeysRepository } from '../src/idempotency/idempotency-keys.repository';
import { TestApp, bearer } from './helpers/app';
import {
  Banking,
  banking,
  createAccount,
  createClient,
  createCustomer,
  createTeller,
  unique,
} from './helpers/banking';
import { expectProblem, expectReplayedProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

const SUMMARY_KEYS = ['accountId', 'amount', 'counterparty', 'createdAt', 'id', 'type'];

/** A first answer: not marked as a replay. */
function expectOriginal(res: Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['idempotent-replayed']).toBeUndefined();
}

/** The replay repeats the first answer exactly, marked Idempotent-Replayed: true. */
function expectReplayOf(replay: Response, original: Response): void {
  expect(replay.status).toBe(original.status);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.headers['content-type']).toBe(original.headers['content-type']);
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
  /** The money routes of teller A, who makes every request unless a test says otherwise. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller: tellerA, bank } = await withTeller());
    tellerB = (await createTeller(t, admin)).token;
  });
  afterAll(async () => {
    await t.close();
  });

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
      const account = (await bank.open()).id;
      const key = newKey();
      const body = { amount: '25.00', description: 'Cash in' };
      const first = await bank.deposit(account, body, key);
      expectOriginal(first, 201);
      expect(first.body.balanceAfter).toBe('25.00');

      const second = await bank.deposit(account, body, key);
      expectReplayOf(second, first);
      const third = await bank.deposit(account, body, key);
      expectReplayOf(third, first);
      expect(await state(account)).toEqual({ balance: '25.00', operations: 1 });
    });

    it('on withdrawals', async () => {
      const account = (await bank.open({ funding: '100.00' })).id;
      const key = newKey();
      const first = await bank.withdraw(account, { amount: '40.00' }, key);
      expectOriginal(first, 201);
      const replay = await bank.withdraw(account, { amount: '40.00' }, key);
      expectReplayOf(replay, first);
      expect(await state(account)).toEqual({ balance: '60.00', operations: 2 });
    });

    it('on transfers', async () => {
      const from = (await bank.open({ funding: '100.00' })).id;
      const to = (await bank.open()).id;
      const key = newKey();
      const first = await bank.transfer(from, to, '30.00', key);
      expectOriginal(first, 201);
      const replay = await bank.transfer(from, to, '30.00', key);
      expectReplayOf(replay, first);
      expect(await state(from)).toEqual({ balance: '70.00', operations: 2 });
      expect(await state(to)).toEqual({ balance: '30.00', operations: 1 });
    });

    it('on reversals (the replay is not a second reversal)', async () => {
      const account = (await bank.open()).id;
      const dep = await bank.deposit(account, '15.00');
      expect(dep.status).toBe(201);
      const key = newKey();
      const first = await bank.reverse(dep.body.id, { description: 'Mistake' }, key);
      expectOriginal(first, 201);
      expect(first.body.reversalOf).toBe(dep.body.id);
      const replay = await bank.reverse(dep.body.id, { description: 'Mistake' }, key);
      expectReplayOf(replay, first);
      expect(await state(account)).toEqual({ balance: '0.00', operations: 2 });

      expectProblem(
        await bank.reverse(dep.body.id, { description: 'Mistake' }),
        409,
        'ALREADY_REVERSED',
      );
    });

    it('on a customer transfer, whose replay reveals no more than the first answer', async () => {
      const clientId = (await createClient(t, tellerA)).id;
      const own = (await bank.open({ holderIds: [clientId], funding: '50.00' })).id;
      const foreign = (await bank.open({ funding: '999.00' })).id;
      const customer = banking(t, await createCustomer(t, admin, clientId));

      const key = newKey();
      const first = await customer.transfer(own, foreign, '5.00', key);
      expectOriginal(first, 201);
      expect(Object.keys(first.body.credit).sort()).toEqual(SUMMARY_KEYS);
      const replay = await customer.transfer(own, foreign, '5.00', key);
      expectReplayOf(replay, first);
      expect(Object.keys(replay.body.credit).sort()).toEqual(SUMMARY_KEYS);
      expect(await state(own)).toEqual({ balance: '45.00', operations: 2 });
      expect(await state(foreign)).toEqual({ balance: '1004.00', operations: 2 });
    });
  });

  describe('a key is bound to its body and route', () => {
    it('a different body with the same key is 422 IDEMPOTENCY_KEY_REUSED and does nothing', async () => {
      const account = (await bank.open()).id;
      const key = newKey();
      expectOriginal(await bank.deposit(account, { amount: '10.00' }, key), 201);

      expectProblem(
        await bank.deposit(account, { amount: '11.00' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(
        await bank.deposit(account, { amount: '10.00', description: 'other' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await state(account)).toEqual({ balance: '10.00', operations: 1 });
    });

    it('a different transfer body with the same key is 422 and moves nothing', async () => {
      const from = (await bank.open({ funding: '100.00' })).id;
      const to = (await bank.open()).id;
      const third = (await bank.open()).id;
      const key = newKey();
      expectOriginal(await bank.transfer(from, to, '10.00', key), 201);
      expectProblem(await bank.transfer(from, third, '10.00', key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await state(from)).toEqual({ balance: '90.00', operations: 2 });
      expect(await state(to)).toEqual({ balance: '10.00', operations: 1 });
      expect(await state(third)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('the same key on a different route is 422 and does nothing', async () => {
      const account = (await bank.open({ funding: '100.00' })).id;
      const other = (await bank.open({ funding: '100.00' })).id;
      const key = newKey();
      const body = { amount: '10.00' };
      expectOriginal(await bank.deposit(account, body, key), 201);

      expectProblem(await bank.deposit(other, body, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(await bank.withdraw(account, body, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(
        await bank.transfer(account, other, '10.00', key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await state(account)).toEqual({ balance: '110.00', operations: 2 });
      expect(await state(other)).toEqual({ balance: '100.00', operations: 1 });
    });

    it('a key used for a reversal cannot reverse another operation', async () => {
      const account = (await bank.open()).id;
      const one = await bank.deposit(account, '1.00');
      const two = await bank.deposit(account, '2.00');
      const key = newKey();
      expectOriginal(await bank.reverse(one.body.id, {}, key), 201);
      expectProblem(await bank.reverse(two.body.id, {}, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await state(account)).toEqual({ balance: '2.00', operations: 3 });
    });
  });

  describe('the key itself', () => {
    it('a key of 256 characters is 400 and does nothing; 255 is accepted', async () => {
      const account = (await bank.open()).id;
      expectProblem(
        await bank.deposit(account, { amount: '10.00' }, 'k'.repeat(256)),
        400,
        'VALIDATION_FAILED',
      );
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });

      const longest = 'k'.repeat(254) + randomUUID().slice(0, 1);
      const first = await bank.deposit(account, { amount: '10.00' }, longest);
      expectOriginal(first, 201);
      expectReplayOf(await bank.deposit(account, { amount: '10.00' }, longest), first);
      expect(await state(account)).toEqual({ balance: '10.00', operations: 1 });
    });

    it('an empty key is 400', async () => {
      const account = (await bank.open()).id;
      expectProblem(await bank.deposit(account, { amount: '10.00' }, ''), 400, 'VALIDATION_FAILED');
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });
    });

    it("another user's identical key is a different key: two tellers, two effects", async () => {
      const account = (await bank.open()).id;
      const key = newKey();
      const body = { amount: '10.00' };
      const bankB = banking(t, tellerB);
      const a = await bank.deposit(account, body, key);
      const b = await bankB.deposit(account, body, key);
      expectOriginal(a, 201);
      expectOriginal(b, 201);
      expect(b.body.id).not.toBe(a.body.id);
      expect(b.body.balanceAfter).toBe('20.00');
      expect(await state(account)).toEqual({ balance: '20.00', operations: 2 });

      expectReplayOf(await bank.deposit(account, body, key), a);
      expectReplayOf(await bankB.deposit(account, body, key), b);
      expect(await state(account)).toEqual({ balance: '20.00', operations: 2 });
    });

    it('requests without a key are never deduplicated', async () => {
      const account = (await bank.open()).id;
      expect((await bank.deposit(account, '1.00')).status).toBe(201);
      const second = await bank.deposit(account, '1.00');
      expectOriginal(second, 201);
      expect(await state(account)).toEqual({ balance: '2.00', operations: 2 });
    });
  });

  describe('what is stored', () => {
    it('a 422 INSUFFICIENT_FUNDS is replayed even after money was deposited meanwhile', async () => {
      const account = (await bank.open()).id;
      const key = newKey();
      const first = await bank.withdraw(account, { amount: '50.00' }, key);
      expectProblem(first, 422, 'INSUFFICIENT_FUNDS');
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      expect((await bank.deposit(account, '100.00')).status).toBe(201);
      const replay = await bank.withdraw(account, { amount: '50.00' }, key);
      expectReplayOf(replay, first);
      expectReplayedProblem(replay, 422, 'INSUFFICIENT_FUNDS');
      expect(await state(account)).toEqual({ balance: '100.00', operations: 1 });

      // Without the key the same withdrawal now goes through.
      expect((await bank.withdraw(account, '50.00')).status).toBe(201);
    });

    it('a 422 on a transfer is replayed too', async () => {
      const from = (await bank.open()).id;
      const to = (await bank.open()).id;
      const key = newKey();
      const first = await bank.transfer(from, to, '5.00', key);
      expectProblem(first, 422, 'INSUFFICIENT_FUNDS');
      expect((await bank.deposit(from, '10.00')).status).toBe(201);
      expectReplayOf(await bank.transfer(from, to, '5.00', key), first);
      expect(await state(from)).toEqual({ balance: '10.00', operations: 1 });
      expect(await state(to)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('a 409 ACCOUNT_NOT_ACTIVE is replayed after the account is unfrozen', async () => {
      const account = (await bank.open()).id;
      const frozen = await t.http
        .patch(`/api/v1/accounts/${account}`)
        .set(bearer(tellerA))
        .send({ status: 'frozen' });
      expect(frozen.status).toBe(200);
      const key = newKey();
      const first = await bank.deposit(account, { amount: '10.00' }, key);
      expectProblem(first, 409, 'ACCOUNT_NOT_ACTIVE');
      const active = await t.http
        .patch(`/api/v1/accounts/${account}`)
        .set(bearer(tellerA))
        .send({ status: 'active' });
      expect(active.status).toBe(200);
      expectReplayOf(await bank.deposit(account, { amount: '10.00' }, key), first);
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });
    });

    it('a 404 for a transfer to an unknown account is replayed as it was', async () => {
      const from = (await bank.open({ funding: '10.00' })).id;
      const key = newKey();
      const body = { fromAccountId: from, toAccountId: randomUUID(), amount: '1.00' };
      const first = await bank.transfer(body.fromAccountId, body.toAccountId, body.amount, key);
      expectProblem(first, 404, 'NOT_FOUND');
      expectReplayOf(
        await bank.transfer(body.fromAccountId, body.toAccountId, body.amount, key),
        first,
      );
      expect(await state(from)).toEqual({ balance: '10.00', operations: 1 });
    });

    it('a request that failed validation stores nothing: the key then works with a valid body', async () => {
      const account = (await bank.open()).id;
      const key = newKey();
      expectProblem(await bank.deposit(account, { amount: 'abc' }, key), 400, 'VALIDATION_FAILED');
      expectProblem(
        await bank.deposit(account, { amount: '5.00', extra: true }, key),
        400,
        'VALIDATION_FAILED',
      );
      expect(await state(account)).toEqual({ balance: '0.00', operations: 0 });

      const valid = await bank.deposit(account, { amount: '5.00' }, key);
      expectOriginal(valid, 201);
      expect(valid.body.balanceAfter).toBe('5.00');
      expectReplayOf(await bank.deposit(account, { amount: '5.00' }, key), valid);
      expect(await state(account)).toEqual({ balance: '5.00', operations: 1 });
    });

    it('parallel requests with one key have exactly one effect', async () => {
      const account = (await bank.open()).id;
      const key = newKey();
      const results = await Promise.all(
        Array.from({ length: 6 }, () => bank.deposit(account, { amount: '7.00' }, key)),
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
      expectReplayOf(await bank.deposit(account, { amount: '7.00' }, key), originals[0]);
    });
  });

  describe('the route a key is bound to', () => {
    let port: number;

    beforeAll(async () => {
      const server = t.app.getHttpServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as { port: number }).port;
    });

    /** A keyed POST whose request line names `target` as it is (absolute form), over a raw socket. */
    function postTo(
      target: string,
      key: string,
      body: object,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const json = JSON.stringify(body);
      const host = new URL(target).host;
      const request = [
        `POST ${target} HTTP/1.1`,
        `Host: ${host}`,
        `Authorization: Bearer ${tellerA}`,
        'Content-Type: application/json',
        `Idempotency-Key: ${key}`,
        `Content-Length: ${Buffer.byteLength(json)}`,
        'Connection: close',
        '',
        json,
      ].join('\r\n');
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('close', () => {
          const answer = Buffer.concat(chunks).toString();
          const split = answer.indexOf('\r\n\r\n');
          resolve({
            status: Number(answer.slice(0, answer.indexOf('\r\n')).split(' ')[1]),
            body: JSON.parse(answer.slice(split + 4)),
          });
        });
      });
    }

    it('an absolute-form target with a long host is the route of its path: 201, then replayed', async () => {
      const host = `http://${'h'.repeat(280)}.example`;
      const from = (await bank.open({ funding: '10.00' })).id;
      const to = (await bank.open()).id;
      const transfer = { fromAccountId: from, toAccountId: to, amount: '3.00' };
      const key = newKey();
      const first = await postTo(`${host}/api/v1/transfers`, key, transfer);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ amount: '3.00', debit: { accountId: from } });
      const replay = await bank.transfer(from, to, '3.00', key);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);

      const depositKey = newKey();
      const deposit = await postTo(`${host}/api/v1/accounts/${to}/deposits`, depositKey, {
        amount: '2.00',
      });
      expect(deposit.status).toBe(201);
      const again = await bank.deposit(to, '2.00', depositKey);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(deposit.body);
      expect(await bank.balance(from)).toBe('7.00');
      expect(await bank.balance(to)).toBe('5.00');
    });

    it('a key stored with the route read from the path, as before, still replays', async () => {
      const account = (await bank.open({ funding: '10.00' })).id;
      const me = (await t.http.get('/api/v1/auth/me').set(bearer(tellerA))).body.id as string;
      const keys = t.app.get(IdempotencyKeysRepository);
      const paths = [
        `/api/v1/accounts/${account}/deposits`,
        `/api/v1/accounts/${account.toUpperCase()}/deposits`,
        `/api/v1/accounts/${account}/deposits/`,
      ];
      for (const path of paths) {
        // What the service stored for a key when it built the route from the request's path.
        const key = newKey();
        const route = `POST ${path}`;
        const stored = JSON.stringify({ stored: path });
        await inTransaction(t.app.get(DataSource), (em) =>
          keys.insert(em, {
            user_id: me,
            key,
            route,
            request_hash: createHash('sha256')
              .update(`${route}\n${canonicalJson({ amount: '1.00' })}`)
              .digest(),
            response_status: 201,
            response_type: 'application/json; charset=utf-8',
            response_body: stored,
          }),
        );
        const res = await t.http
          .post(path)
          .set(bearer(tellerA))
          .set('Idempotency-Key', key)
          .send({ amount: '1.00' });
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 201,
          body: { stored: path },
        });
        expect(res.headers['idempotent-replayed']).toBe('true');
      }
      expect(await bank.balance(account)).toBe('10.00');
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
      const original = await banking(first, admin).deposit(id, '42.00', key);
      expectOriginal(original, 201);

      database = first.database ?? undefined;
      await first.app.close();
      const second = await TestApp.start({ DATA_DIR: dataDir }, database ? { database } : {});
      try {
        const replay = await banking(second, admin).deposit(id, '42.00', key);
        expectReplayOf(replay, original);
        expectProblem(
          await banking(second, admin).deposit(id, '43.00', key),
          422,
          'IDEMPOTENCY_KEY_REUSED',
        );

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
