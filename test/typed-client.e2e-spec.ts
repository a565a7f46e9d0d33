import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiProblem, BankApi, ExampleResult, runExample } from '../examples/typed-client/client';
import { TestApp, USER_PASSWORD, bearer } from './helpers/app';
import {
  Banking,
  Operation,
  banking,
  cents,
  createClient,
  money,
  uniqueName,
} from './helpers/banking';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

/**
 * The example of examples/typed-client, run as a frontend would run it: over
 * HTTP on a real port, as a customer with two funded accounts that an admin
 * set up through the API. Everything it claims is checked here on its own.
 */
describe('the typed-client example', () => {
  let t: TestApp;
  let baseUrl: string;
  let admin: string;
  let bank: Banking;
  let clientId: string;
  let username: string;
  let fromId: string;
  let toId: string;
  let payee: { id: string; number: string };
  let before: Record<string, string>;
  let result: ExampleResult;
  /** What the session answered while it was still live, after the refresh. */
  let live: {
    meWithRefreshed: number;
    verifyRefreshed: { status: number; type: unknown };
    verifySpent: { status: number; code: unknown };
  };
  const AMOUNT = '12.34';
  /** What the example pays Grace Hopper by account number. */
  const PAID = '7.50';

  beforeAll(async () => {
    t = await TestApp.start();
    const server = t.app.getHttpServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    admin = await t.adminToken();
    bank = banking(t, admin);
    clientId = (await createClient(t, admin)).id;
    username = uniqueName('typed');
    await t.createUser(admin, { username, role: 'customer', clientId });
    fromId = (await bank.open({ holderIds: [clientId], funding: '250.00' })).id;
    toId = (await bank.open({ holderIds: [clientId], funding: '40.00' })).id;
    before = { [fromId]: await bank.balance(fromId), [toId]: await bank.balance(toId) };
    const grace = await createClient(t, admin, { firstName: 'Grace', lastName: 'Hopper' });
    payee = await bank.open({ holderIds: [grace.id] });

    result = await runExample(
      baseUrl,
      { username, password: USER_PASSWORD },
      {
        amount: AMOUNT,
        payee: { accountNumber: payee.number, name: 'grace HOPPER', amount: PAID },
        beforeLogout: async ({ login, refreshed }) => {
          const me = await t.http.get('/api/v1/auth/me').set(bearer(refreshed.accessToken));
          const verify = (token: string) => t.http.post('/api/v1/auth/verify').send({ token });
          const fresh = await verify(refreshed.refreshToken);
          const spent = await verify(login.refreshToken);
          live = {
            meWithRefreshed: me.status,
            verifyRefreshed: { status: fresh.status, type: fresh.body.type },
            verifySpent: { status: spent.status, code: spent.body.code },
          };
        },
      },
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('logs in as the customer and reads exactly its two accounts', () => {
    expect(result.me).toMatchObject({ username, role: 'customer', clientId });
    expect(result.accounts.map((a) => [a.id, a.balance])).toEqual([
      [fromId, before[fromId]],
      [toId, before[toId]],
    ]);
  });

  it('moves exactly the amount, once, although the transfer was sent twice with its key', async () => {
    expect(result.transfer).toMatchObject({ fromAccountId: fromId, toAccountId: toId });
    expect(result.transfer.result.amount).toBe(AMOUNT);
    expect(result.transfer.retry).toEqual({
      replayed: true,
      transferId: result.transfer.result.id,
    });
    // Read by the admin, not through the example (which also paid Grace Hopper PAID).
    expect(cents(await bank.balance(fromId))).toBe(
      cents(before[fromId]) - cents(AMOUNT) - cents(PAID),
    );
    expect(cents(await bank.balance(toId))).toBe(cents(before[toId]) + cents(AMOUNT));
    const res = await bank.operations(toId, 'kind=transfer');
    expect(res.status).toBe(200);
    expect((res.body.items as Operation[]).map((o) => [o.type, o.amount, o.transferId])).toEqual([
      ['credit', AMOUNT, result.transfer.result.id],
    ]);
  });

  it('pays someone by account number after verifying the name, and shows who in the history', async () => {
    const payment = result.payment!;
    expect(payment.verification).toEqual({
      accountNumber: payee.number,
      result: 'match',
      currency: 'EUR',
      suggestedName: null,
    });
    expect(payment.result.amount).toBe(PAID);
    expect(payment.historyLine).toMatchObject({
      type: 'debit',
      amount: PAID,
      transferId: payment.result.id,
      counterparty: { accountNumber: payee.number, name: 'Grace Hopper' },
    });
    // The payee's side, read by the admin: the money arrived, from whom.
    expect(await bank.balance(payee.id)).toBe(PAID);
    const from = result.accounts.find((a) => a.id === fromId)!;
    const credited = await bank.operations(payee.id, 'kind=transfer');
    expect((credited.body.items as Operation[]).map((o) => o.counterparty)).toEqual([
      { accountNumber: from.number, name: 'Ada Lovelace' },
    ]);
  });

  it('gets the typed INSUFFICIENT_FUNDS for a transfer one cent beyond the balance', () => {
    const balanceAfter = cents(before[fromId]) - cents(AMOUNT);
    expect(result.refused).toEqual({
      amount: money(balanceAfter + 1n),
      status: 422,
      code: 'INSUFFICIENT_FUNDS',
      message: expect.any(String),
    });
  });

  it('keeps the rotated refresh token: the new pair works, the spent refresh token does not', () => {
    expect(result.tokens.refreshed.refreshToken).not.toBe(result.tokens.login.refreshToken);
    expect(result.meAfterRefresh).toEqual(result.me);
    expect(live).toEqual({
      meWithRefreshed: 200,
      verifyRefreshed: { status: 200, type: 'refresh' },
      verifySpent: { status: 401, code: 'TOKEN_INVALID' },
    });
  });

  it('after logout, neither access token nor either refresh token is accepted', async () => {
    const { login, refreshed } = result.tokens;
    for (const token of [login.accessToken, refreshed.accessToken]) {
      const res = await t.http.get('/api/v1/auth/me').set(bearer(token));
      expect(res.status).toBe(401);
    }
    for (const refreshToken of [login.refreshToken, refreshed.refreshToken]) {
      const res = await t.http.post('/api/v1/auth/refresh').send({ refreshToken });
      expect(res.status).toBe(401);
    }
  });

  it('turns a refused login into an ApiProblem with the typed code', async () => {
    const refused = await new BankApi(baseUrl)
      .login({ username, password: 'not-the-password-of-this-user' })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(ApiProblem);
    expect(refused).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
  });
});

describe('examples/typed-client/api.d.ts', () => {
  // `npm run client:types` writes it with the same command: run it after `npm run openapi:write`.
  it('is what `npm run client:types` generates from the committed openapi.json', async () => {
    const cli = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    const { stdout } = await run(process.execPath, [cli, 'openapi.json'], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    const committed = readFileSync(join(ROOT, 'examples', 'typed-client', 'api.d.ts'), 'utf8');
    expect(committed).toBe(stdout);
  });
});
