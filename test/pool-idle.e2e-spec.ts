/**
 * A user who pauses longer than the pool's idle timeout (Swagger UI, a demo)
 * must find the service as they left it: the pool closes its idle connection
 * and opens a new one, and every route whose statements are prepared on a
 * connection keeps answering. On the embedded database the new connection
 * reaches the same PGlite session as the old one, where the old connection's
 * prepared statements still exist.
 */
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { Account, createAccount, createClient } from './helpers/banking';
import { withTeller } from './helpers/fixture';
import { until } from './helpers/service';

describe('after the pool closed its idle connection', () => {
  let t: TestApp;
  let teller: string;
  let a: Account;
  let b: Account;

  beforeAll(async () => {
    ({ t, teller } = await withTeller({ DATABASE_IDLE_TIMEOUT: '1s' }));
    const client = await createClient(t, teller);
    a = await createAccount(t, teller, { holderIds: [client.id] });
    b = await createAccount(t, teller, { holderIds: [client.id] });
  });
  afterAll(async () => {
    await t.close();
  });

  const pool = () => (t.app.get(DataSource).driver as unknown as { master: Pool }).master;

  /** Every route that runs a named prepared statement, each once; the statuses in order. */
  async function everyPreparedRoute(): Promise<number[]> {
    const auth = bearer(teller);
    const results = [
      await t.http.get('/api/v1/auth/me').set(auth),
      await t.http.post(`/api/v1/accounts/${a.id}/deposits`).set(auth).send({ amount: '10.00' }),
      await t.http.post(`/api/v1/accounts/${a.id}/withdrawals`).set(auth).send({ amount: '1.00' }),
      // Refused: explains itself with a statement of its own.
      await t.http
        .post(`/api/v1/accounts/${b.id}/withdrawals`)
        .set(auth)
        .send({ amount: '1000.00' }),
      await t.http
        .post('/api/v1/transfers')
        .set(auth)
        .send({ fromAccountId: a.id, toAccountId: b.id, amount: '2.00' }),
      await t.http.get(`/api/v1/accounts/${a.id}`).set(auth),
      await t.http.get(`/api/v1/accounts/${a.id}/operations`).set(auth),
      await t.http.get(`/api/v1/accounts/${a.id}/statement`).set(auth),
      await t.http.get(`/api/v1/operations?accountId=${a.id}`).set(auth),
    ];
    return results.map((r) => r.status);
  }

  const EXPECTED = [200, 201, 201, 422, 201, 200, 200, 200, 200];

  it('every prepared route still answers', async () => {
    expect(await everyPreparedRoute()).toEqual(EXPECTED);
    await until(
      'the pool to close its idle connection',
      () => pool().totalCount === 0 || undefined,
    );
    expect(await everyPreparedRoute()).toEqual(EXPECTED);
    const account = await t.http.get(`/api/v1/accounts/${a.id}`).set(bearer(teller));
    // 2 × (10.00 - 1.00 - 2.00)
    expect(account.body.balance).toBe('14.00');
  }, 60_000);
});
