import { randomUUID } from 'node:crypto';
import { TestApp, USER_PASSWORD, bearer } from './app';

/** A client as API.md describes it. */
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

/** An account as API.md describes it. */
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

/** An operation (one ledger line) as API.md describes it. */
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
  t: TestApp,
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
  t: TestApp,
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
