/**
 * The hot routes (read an account, list its operations or its statement,
 * deposit, withdraw, transfer) check the caller's session inside their own SQL statement. These
 * tests hold them to the same rules as every other route: an ended session,
 * a disabled user or a forbidden role is refused before anything else is
 * looked at, and nothing moves.
 */
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { SESSION_IN_QUERY } from '../src/auth/caller';
import { TestApp, USER_PASSWORD, bearer } from './helpers/app';
import {
  Account,
  createAccount,
  createClient,
  createCustomer,
  createTeller,
  uniqueName,
} from './helpers/banking';
import { expectProblem } from './helpers/expect';

interface Route {
  name: string;
  method: 'get' | 'post';
  path: (a: Account, b: Account) => string;
  body?: (a: Account, b: Account) => object;
  /** The same route with a malformed id or body (400 for a live session). */
  malformed: { path: (a: Account, b: Account) => string; body?: object };
}

const ROUTES: Route[] = [
  {
    name: 'GET /accounts/:id',
    method: 'get',
    path: (a) => `/api/v1/accounts/${a.id}`,
    malformed: { path: () => '/api/v1/accounts/not-a-uuid' },
  },
  {
    name: 'GET /accounts/:id/operations',
    method: 'get',
    path: (a) => `/api/v1/accounts/${a.id}/operations?limit=5`,
    malformed: { path: (a) => `/api/v1/accounts/${a.id}/operations?limit=0` },
  },
  {
    name: 'GET /accounts/:id/statement',
    method: 'get',
    path: (a) => `/api/v1/accounts/${a.id}/statement`,
    malformed: { path: (a) => `/api/v1/accounts/${a.id}/statement?from=2026-02-30` },
  },
  {
    name: 'POST /accounts/:id/deposits',
    method: 'post',
    path: (a) => `/api/v1/accounts/${a.id}/deposits`,
    body: () => ({ amount: '1.00' }),
    malformed: { path: (a) => `/api/v1/accounts/${a.id}/deposits`, body: { amount: '1.001' } },
  },
  {
    name: 'POST /accounts/:id/withdrawals',
    method: 'post',
    path: (a) => `/api/v1/accounts/${a.id}/withdrawals`,
    body: () => ({ amount: '1.00' }),
    malformed: { path: (a) => `/api/v1/accounts/${a.id}/withdrawals`, body: { amount: -1 } },
  },
  {
    name: 'POST /transfers',
    method: 'post',
    path: () => '/api/v1/transfers',
    body: (a, b) => ({ fromAccountId: a.id, toAccountId: b.id, amount: '1.00' }),
    malformed: { path: () => '/api/v1/transfers', body: { fromAccountId: 'x', amount: '1' } },
  },
];

describe('routes that check the session in their own statement', () => {
  let t: TestApp;
  let admin: string;
  let teller: { id: string; username: string; token: string };
  let a: Account;
  let b: Account;

  const send = (route: Route, token: string, malformed = false) => {
    const path = malformed ? route.malformed.path(a, b) : route.path(a, b);
    const body = malformed ? route.malformed.body : route.body?.(a, b);
    const req = route.method === 'get' ? t.http.get(path) : t.http.post(path).send(body);
    return req.set(bearer(token));
  };

  const balances = async () =>
    Promise.all(
      [a, b].map(async (account) => {
        const res = await t.http.get(`/api/v1/accounts/${account.id}`).set(bearer(admin));
        return (res.body as Account).balance;
      }),
    );

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.adminToken();
    teller = await createTeller(t, admin);
    const client = await createClient(t, teller.token);
    a = await createAccount(t, teller.token, { holderIds: [client.id] });
    b = await createAccount(t, teller.token, { holderIds: [client.id] });
    await t.http
      .post(`/api/v1/accounts/${a.id}/deposits`)
      .set(bearer(teller.token))
      .send({ amount: '100.00' })
      .expect(201);
  });

  afterAll(() => t.close());

  it('covers every route the application declares @SessionInQuery()', () => {
    const declared: string[] = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const metatype = wrapper.metatype as object;
        const base = String(Reflect.getMetadata(PATH_METADATA, metatype)).replace(
          /^api\/v1\/?/,
          '',
        );
        const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const key of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[key];
          if (typeof handler !== 'function' || !Reflect.getMetadata(SESSION_IN_QUERY, handler))
            continue;
          const method = ['GET', 'POST'][Reflect.getMetadata(METHOD_METADATA, handler) as number];
          const path = [base, Reflect.getMetadata(PATH_METADATA, handler) as string]
            .filter(Boolean)
            .join('/');
          declared.push(`${method} /${path}`);
        }
      }
    }
    expect(declared.sort()).toEqual(ROUTES.map((r) => r.name).sort());
  });

  describe.each(ROUTES)('$name', (route) => {
    it('answers a live session (200 or 201)', async () => {
      const res = await send(route, teller.token);
      expect([200, 201]).toContain(res.status);
    });

    it('is 400 for malformed input from a live session', async () => {
      expectProblem(await send(route, teller.token, true), 400, 'VALIDATION_FAILED');
    });

    it('is 401 TOKEN_INVALID after logout, malformed input or not, and moves nothing', async () => {
      const username = uniqueName('gone');
      await t.createUser(admin, { username, role: 'teller' });
      const { accessToken } = await t.login(username, USER_PASSWORD);
      await t.http.post('/api/v1/auth/logout').set(bearer(accessToken)).expect(204);
      const before = await balances();
      expectProblem(await send(route, accessToken), 401, 'TOKEN_INVALID');
      expectProblem(await send(route, accessToken, true), 401, 'TOKEN_INVALID');
      expect(await balances()).toEqual(before);
    });

    it('is 401 once the user is disabled, and moves nothing', async () => {
      const username = uniqueName('off');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const { accessToken } = await t.login(username, USER_PASSWORD);
      await t.http
        .patch(`/api/v1/users/${id}`)
        .set(bearer(admin))
        .send({ disabled: true })
        .expect(200);
      const before = await balances();
      expectProblem(await send(route, accessToken), 401, 'TOKEN_INVALID');
      expectProblem(await send(route, accessToken, true), 401, 'TOKEN_INVALID');
      expect(await balances()).toEqual(before);
    });
  });

  it('a customer is 403 on deposits and withdrawals, malformed body or not, and nothing moves', async () => {
    const client = await createClient(t, teller.token);
    const own = await createAccount(t, teller.token, { holderIds: [client.id] });
    const customer = await createCustomer(t, admin, client.id);
    for (const kind of ['deposits', 'withdrawals']) {
      for (const body of [{ amount: '1.00' }, { amount: 'lots' }]) {
        const res = await t.http
          .post(`/api/v1/accounts/${own.id}/${kind}`)
          .set(bearer(customer))
          .send(body);
        expectProblem(res, 403, 'FORBIDDEN');
      }
    }
    const after = await t.http.get(`/api/v1/accounts/${own.id}`).set(bearer(customer));
    expect(after.body).toMatchObject({ id: own.id, balance: '0.00' });
  });

  it('a role taken away applies at the next request: a teller made customer cannot deposit', async () => {
    const client = await createClient(t, teller.token);
    const username = uniqueName('demoted');
    const id = await t.createUser(admin, { username, role: 'teller' });
    const { accessToken } = await t.login(username, USER_PASSWORD);
    await t.http
      .post(`/api/v1/accounts/${a.id}/deposits`)
      .set(bearer(accessToken))
      .send({ amount: '1.00' })
      .expect(201);
    await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(admin))
      .send({ role: 'customer', clientId: client.id })
      .expect(200);
    const before = await balances();
    const res = await t.http
      .post(`/api/v1/accounts/${a.id}/deposits`)
      .set(bearer(accessToken))
      .send({ amount: '1.00' });
    expectProblem(res, 403, 'FORBIDDEN');
    expect(await balances()).toEqual(before);
    // ...and as a customer of another client, the account is no longer visible.
    expectProblem(
      await t.http.get(`/api/v1/accounts/${a.id}`).set(bearer(accessToken)),
      404,
      'NOT_FOUND',
    );
  });

  it('an Idempotency-Key sent with an ended session is not used up', async () => {
    const key = randomUUID();
    const username = uniqueName('keyed');
    await t.createUser(admin, { username, role: 'teller' });
    const ended = await t.login(username, USER_PASSWORD);
    const live = await t.login(username, USER_PASSWORD);
    await t.http.post('/api/v1/auth/logout').set(bearer(ended.accessToken)).expect(204);
    const path = `/api/v1/accounts/${a.id}/deposits`;
    const refused = await t.http
      .post(path)
      .set(bearer(ended.accessToken))
      .set('Idempotency-Key', key)
      .send({ amount: '2.00' });
    expectProblem(refused, 401, 'TOKEN_INVALID');
    const res = await t.http
      .post(path)
      .set(bearer(live.accessToken))
      .set('Idempotency-Key', key)
      .send({ amount: '2.00' });
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.body).toMatchObject({ accountId: a.id, amount: '2.00', type: 'credit' });
  });

  it('a transfer refused by a rule moves neither account', async () => {
    const before = await balances();
    const tooMuch = await t.http
      .post('/api/v1/transfers')
      .set(bearer(teller.token))
      .send({ fromAccountId: b.id, toAccountId: a.id, amount: '1000000.00' });
    expectProblem(tooMuch, 422, 'INSUFFICIENT_FUNDS');
    const unknown = await t.http
      .post('/api/v1/transfers')
      .set(bearer(teller.token))
      .send({ fromAccountId: a.id, toAccountId: randomUUID(), amount: '1.00' });
    expectProblem(unknown, 404, 'NOT_FOUND');
    expect(await balances()).toEqual(before);
  });
});
