/**
 * The API as its users drive it, for every spec: clients, accounts, users and
 * the money routes. A spec keeps one `banking(t, token)` per caller (the
 * teller's, a customer's) instead of defining its own deposit, withdraw,
 * transfer, reverse or open helpers; what it needs that is generic belongs here.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TestApp, USER_PASSWORD, bearer } from './app';

/**
 * What the helpers below need of an application: its supertest agent. A
 * TestApp is one; `remote(base)` makes one for a service in its own process.
 */
export type Http = Pick<TestApp, 'http'>;

/** The service listening at `base` (e.g. http://127.0.0.1:3000), for the helpers below. */
export function remote(base: string): Http {
  return {
    get http() {
      return request(base);
    },
  };
}

/** A client as the API describes it (docs/api-guide.md, openapi.json). */
export interface ClientBody {
  id: string;
  nationalId: string;
  firstName: string;
  lastName: string;
  address: string | null;
  email: string | null;
  phone: string | null;
  createdAt: string;
}

/** An account holder as embedded in an account. */
export interface Holder {
  id: string;
  firstName: string;
  lastName: string;
}

/** An account as the API describes it (docs/api-guide.md, openapi.json). */
export interface Account {
  id: string;
  number: string;
  currency: string;
  balance: string;
  overdraftLimit: string;
  status: string;
  holders: Holder[];
  openedAt: string;
  closedAt: string | null;
}

/** An operation (one ledger line) as the API describes it (docs/api-guide.md, openapi.json). */
export interface Operation {
  id: string;
  accountId: string;
  type: 'credit' | 'debit';
  kind: 'deposit' | 'withdrawal' | 'transfer' | 'reversal';
  amount: string;
  balanceAfter: string;
  description: string | null;
  transferId: string | null;
  reversalOf: string | null;
  reversedBy: string | null;
  /** The other account of a transfer (number, holders' names); null otherwise. */
  counterparty: { accountNumber: string; name: string } | null;
  performedBy: string;
  createdAt: string;
}

let counter = 0;

/** An id nobody else in the run has: upper-case letters and digits only (national ids). */
export function unique(prefix: string, randomChars = 10): string {
  counter += 1;
  return `${prefix}${counter}X${randomUUID().replace(/-/g, '').slice(0, randomChars)}`.toUpperCase();
}

/** A username nobody else in the run has. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}_${randomUUID().slice(0, 8)}`;
}

/** "-12.34" -> -1234n; refuses anything that is not the two-decimal money string the API answers with. */
export function cents(money: string): bigint {
  const match = /^(-?)(\d+)\.(\d{2})$/.exec(money);
  if (!match) throw new Error(`not a money string: ${JSON.stringify(money)}`);
  const value = BigInt(match[2]) * 100n + BigInt(match[3]);
  return match[1] === '-' ? -value : value;
}

/** -1234n -> "-12.34" */
export function money(value: bigint): string {
  const abs = value < 0n ? -value : value;
  return `${value < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/**
 * Creates a client through POST /api/v1/clients (201 expected); a fresh
 * national id and "Ada Lovelace" unless `fields` says otherwise.
 */
export async function createClient(
  t: Http,
  token: string,
  fields: Record<string, unknown> = {},
): Promise<ClientBody> {
  const res = await t.http
    .post('/api/v1/clients')
    .set(bearer(token))
    .send({
      firstName: 'Ada',
      lastName: 'Lovelace',
      ...fields,
      nationalId: fields.nationalId ?? unique('N'),
    });
  expect(res.status).toBe(201);
  return res.body as ClientBody;
}

/** Opens an account through POST /api/v1/accounts (201 expected). */
export async function createAccount(
  t: Http,
  token: string,
  body: { holderIds: string[] } & Record<string, unknown>,
): Promise<Account> {
  const res = await t.http.post('/api/v1/accounts').set(bearer(token)).send(body);
  expect(res.status).toBe(201);
  return res.body as Account;
}

/** Creates a teller as admin and logs it in. */
export async function createTeller(
  t: TestApp,
  adminToken: string,
): Promise<{ id: string; username: string; token: string }> {
  const username = uniqueName('teller');
  const id = await t.createUser(adminToken, { username, role: 'teller' });
  const token = (await t.login(username, USER_PASSWORD)).accessToken;
  return { id, username, token };
}

/** Creates a customer of `clientId` as admin, logs it in and returns its access token. */
export async function createCustomer(
  t: TestApp,
  adminToken: string,
  clientId: string,
): Promise<string> {
  const username = uniqueName('cust');
  await t.createUser(adminToken, { username, role: 'customer', clientId });
  return (await t.login(username, USER_PASSWORD)).accessToken;
}

/** A money body: an amount string, or a whole body. */
type MoneyBody = string | Record<string, unknown>;
const moneyBody = (body: MoneyBody) => (typeof body === 'string' ? { amount: body } : body);

/**
 * The money routes as one caller uses them: supertest requests, not yet
 * awaited, so a test can check any answer. `key`, when given (even ''), is
 * sent as the Idempotency-Key. Another caller is another `banking(t, token)`:
 * a test of what a customer may do makes one with the customer's token.
 */
export function banking(t: Http, token: string) {
  const post = (path: string, body: object, key?: string) => {
    const req = t.http.post(path).set(bearer(token));
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
  };
  const api = {
    deposit: (accountId: string, body: MoneyBody, key?: string) =>
      post(`/api/v1/accounts/${accountId}/deposits`, moneyBody(body), key),
    withdraw: (accountId: string, body: MoneyBody, key?: string) =>
      post(`/api/v1/accounts/${accountId}/withdrawals`, moneyBody(body), key),
    transfer: (fromAccountId: string, toAccountId: string, body: MoneyBody, key?: string) =>
      post('/api/v1/transfers', { fromAccountId, toAccountId, ...moneyBody(body) }, key),
    /** A transfer with the body as given: toAccountNumber, both destinations, or neither. */
    transferBody: (body: Record<string, unknown>, key?: string) =>
      post('/api/v1/transfers', body, key),
    reverse: (operationId: string, body: object = {}, key?: string) =>
      post(`/api/v1/operations/${operationId}/reverse`, body, key),
    operations: (accountId: string, query = '') =>
      t.http.get(`/api/v1/accounts/${accountId}/operations?${query}`).set(bearer(token)),
    async balance(accountId: string): Promise<string> {
      const res = await t.http.get(`/api/v1/accounts/${accountId}`).set(bearer(token));
      expect(res.status).toBe(200);
      return (res.body as Account).balance;
    },
    /** Opens an account for a new client (or the given holders) with an optional first deposit. */
    async open(
      options: { holderIds?: string[]; funding?: string } & Record<string, unknown> = {},
    ): Promise<Account> {
      const { holderIds, funding, ...extra } = options;
      const holders = holderIds ?? [(await createClient(t, token)).id];
      const account = await createAccount(t, token, { holderIds: holders, ...extra });
      if (funding) expect((await api.deposit(account.id, funding)).status).toBe(201);
      return account;
    },
  };
  return api;
}

/** The money routes of one caller (see `banking`). */
export type Banking = ReturnType<typeof banking>;

/** Every item of a list, page by page through nextCursor; `path` has its query string. */
export async function allPages<T>(
  t: Http,
  token: string,
  path: string,
  between?: (page: number) => Promise<void>,
): Promise<T[]> {
  const items: T[] = [];
  const join = path.includes('?') ? '&' : '?';
  let cursor: string | null = null;
  for (let page = 1; ; page++) {
    const url: string = cursor ? `${path}${join}cursor=${encodeURIComponent(cursor)}` : path;
    const res = await t.http.get(url).set(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.page).toBe(cursor ? null : 1);
    items.push(...(res.body.items as T[]));
    cursor = res.body.nextCursor as string | null;
    if (!cursor) return items;
    if (between) await between(page);
  }
}
