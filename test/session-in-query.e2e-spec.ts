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
  Banking,
  banking,
  createAccount,
  createClient,
  createCustomer,
  uniqueName,
} from './helpers/banking';
import { expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

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
  /** The teller's money routes. */
  let bank: Banking;
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
    ({ t, admin, tellerUser: teller, bank } = await withTeller());
    const client = await createClient(t, teller.token);
    a = await bank.open({ holderIds: [client.id], funding: '100.00' });
    b = await bank.open({ holderIds: [client.id] });
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
    const mine = banking(t, customer);
    for (const move of [mine.deposit, mine.withdraw]) {
      for (const amount of ['1.00', 'lots']) {
        expectProblem(await move(own.id, amount), 403, 'FORBIDDEN');
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
    const theirs = banking(t, accessToken);
    expect((await theirs.deposit(a.id, '1.00')).status).toBe(201);
    await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(admin))
      .send({ role: 'customer', clientId: client.id })
      .expect(200);
    const before = await balances();
    expectProblem(await theirs.deposit(a.id, '1.00'), 403, 'FORBIDDEN');
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
    const refused = await banking(t, ended.accessToken).deposit(a.id, '2.00', key);
    expectProblem(refused, 401, 'TOKEN_INVALID');
    const res = await banking(t, live.accessToken).deposit(a.id, '2.00', key);
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.body).toMatchObject({ accountId: a.id, amount: '2.00', type: 'credit' });
  });

  it('a transfer refused by a rule moves neither account', async () => {
    const before = await balances();
    expectProblem(await bank.transfer(b.id, a.id, '1000000.00'), 422, 'INSUFFICIENT_FUNDS');
    expectProblem(await bank.transfer(a.id, randomUUID(), '1.00'), 404, 'NOT_FOUND');
    expect(await balances()).toEqual(before);
  });
});
