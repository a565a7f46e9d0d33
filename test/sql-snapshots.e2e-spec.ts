/**
 * Every SQL statement the service sends for its main routes, checked in as
 * test/sql/statements.sql: a change to a money movement, a session check, a
 * page or a statement's query shows in review as a diff of that file.
 *
 * The test drives the routes over HTTP and records what the pg driver is
 * asked to run (TypeORM's statements too), route by route, in the order
 * sent, each statement once per route. It fails when the file differs; run
 * `SQL_WRITE=1 npm run test:e2e -- --testPathPatterns sql-snapshots` to
 * rewrite it, and commit it with the change. Embedded database only: one
 * connection keeps the order of concurrent statements fixed (the server
 * runs the same SQL).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ADMIN_PASSWORD, bearer, TestApp } from './helpers/app';
import { onServer } from './helpers/databases';
import { Banking, createClient, createCustomer } from './helpers/banking';
import { withTeller } from './helpers/fixture';

const FILE = join(__dirname, 'sql', 'statements.sql');
const onEmbedded = onServer ? describe.skip : describe;

/** One statement per line block: its text with trailing spaces trimmed. */
function normalise(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

onEmbedded('SQL snapshots (test/sql/statements.sql)', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let bank: Banking;
  const sections: Array<{ label: string; statements: string[] }> = [];
  let current: string[] | undefined;
  const originalQuery = Client.prototype.query;

  beforeAll(async () => {
    // The audit sealer's own statements would fall among the routes' at its ticks: none during the test.
    ({ t, admin, teller, bank } = await withTeller({ AUDIT_SEAL_INTERVAL: '1m' }));
    // Every statement of every connection goes through Client#query (pool.query included).
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const config = args[0];
      const text = typeof config === 'string' ? config : (config as { text?: string })?.text;
      if (current && typeof text === 'string') {
        const statement = normalise(text);
        if (!current.includes(statement)) current.push(statement);
      }
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof Client.prototype.query;
  });
  afterAll(async () => {
    Client.prototype.query = originalQuery;
    await t?.close();
  });

  /** Records the statements `work` sends under `label`. */
  async function record(label: string, work: () => Promise<unknown>): Promise<void> {
    current = [];
    try {
      await work();
    } finally {
      sections.push({ label, statements: current });
      current = undefined;
    }
  }

  it('is what the routes send', async () => {
    const expectStatus =
      (status: number) =>
      <R extends { status: number }>(res: R): R => {
        expect(res.status).toBe(status);
        return res;
      };
    const ada = await createClient(t, teller, { firstName: 'Ada', lastName: 'Lovelace' });
    const grace = await createClient(t, teller, { firstName: 'Grace', lastName: 'Hopper' });
    const customer = await createCustomer(t, admin, ada.id);
    let a = '';
    let b = '';
    let withdrawalId = '';

    await record('POST /api/v1/auth/login', () =>
      t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', '198.51.100.7')
        .send({ username: 'admin', password: ADMIN_PASSWORD })
        .then(expectStatus(200)),
    );
    await record('GET /api/v1/auth/me', () =>
      t.http.get('/api/v1/auth/me').set(bearer(teller)).then(expectStatus(200)),
    );
    await record('POST /api/v1/accounts', async () => {
      const res = await t.http
        .post('/api/v1/accounts')
        .set(bearer(teller))
        .send({ holderIds: [ada.id] })
        .then(expectStatus(201));
      a = (res.body as { id: string }).id;
    });
    b = (
      await t.http
        .post('/api/v1/accounts')
        .set(bearer(teller))
        .send({ holderIds: [grace.id] })
        .then(expectStatus(201))
    ).body.id;
    await record('GET /api/v1/accounts/:id', () =>
      t.http.get(`/api/v1/accounts/${a}`).set(bearer(customer)).then(expectStatus(200)),
    );
    await record('GET /api/v1/accounts (a page, then the next)', async () => {
      const first = await t.http
        .get('/api/v1/accounts?limit=1')
        .set(bearer(teller))
        .then(expectStatus(200));
      await t.http
        .get(`/api/v1/accounts?limit=1&cursor=${first.body.nextCursor}`)
        .set(bearer(teller))
        .then(expectStatus(200));
    });
    await record('PATCH /api/v1/accounts/:id', () =>
      t.http
        .patch(`/api/v1/accounts/${b}`)
        .set(bearer(teller))
        .send({ overdraftLimit: '10.00' })
        .then(expectStatus(200)),
    );
    await record('POST /api/v1/accounts/:id/holders', () =>
      t.http
        .post(`/api/v1/accounts/${b}/holders`)
        .set(bearer(teller))
        .send({ clientId: ada.id })
        .then(expectStatus(200)),
    );
    await record('DELETE /api/v1/accounts/:id/holders/:clientId', () =>
      t.http
        .delete(`/api/v1/accounts/${b}/holders/${ada.id}`)
        .set(bearer(teller))
        .then(expectStatus(204)),
    );
    await record('POST /api/v1/accounts/:id/deposits', () =>
      bank.deposit(a, '100.00').then(expectStatus(201)),
    );
    await record('POST /api/v1/accounts/:id/deposits with an Idempotency-Key', () =>
      bank.deposit(a, '1.00', 'snapshot-key-1').then(expectStatus(201)),
    );
    await record('POST /api/v1/accounts/:id/withdrawals', async () => {
      const res = await bank.withdraw(a, '10.00').then(expectStatus(201));
      withdrawalId = (res.body as { id: string }).id;
    });
    await record('POST /api/v1/accounts/:id/withdrawals refused', () =>
      bank.withdraw(a, '1000.00').then(expectStatus(422)),
    );
    await record('POST /api/v1/transfers', () =>
      bank.transfer(a, b, '5.00').then(expectStatus(201)),
    );
    await record('POST /api/v1/operations/:id/reverse', () =>
      bank.reverse(withdrawalId).then(expectStatus(201)),
    );
    await record('GET /api/v1/accounts/:id/operations', () =>
      bank.operations(a, 'limit=2').then(expectStatus(200)),
    );
    await record('GET /api/v1/operations', () =>
      t.http.get('/api/v1/operations?limit=2').set(bearer(teller)).then(expectStatus(200)),
    );
    await record('GET /api/v1/accounts/:id/statement', () =>
      t.http.get(`/api/v1/accounts/${a}/statement`).set(bearer(customer)).then(expectStatus(200)),
    );
    await record('GET /api/v1/clients?q=', () =>
      t.http.get('/api/v1/clients?q=Lov&limit=2').set(bearer(teller)).then(expectStatus(200)),
    );
    await record('POST /api/v1/accounts/:id/close', async () => {
      const empty = await t.http
        .post('/api/v1/accounts')
        .set(bearer(teller))
        .send({ holderIds: [grace.id] })
        .then(expectStatus(201));
      current = [];
      await t.http
        .post(`/api/v1/accounts/${empty.body.id}/close`)
        .set(bearer(teller))
        .then(expectStatus(200));
    });
    await record('POST /api/v1/auth/logout', () =>
      t.http.post('/api/v1/auth/logout').set(bearer(customer)).then(expectStatus(204)),
    );

    const text =
      '-- Every statement the service sends for these routes, in the order sent, once per\n' +
      '-- route. Written by test/sql-snapshots.e2e-spec.ts (SQL_WRITE=1): do not edit.\n' +
      sections
        .map(
          ({ label, statements }) =>
            `\n-- ${label}\n` + statements.map((s) => `${s};\n`).join('\n'),
        )
        .join('');
    if (process.env.SQL_WRITE === '1') writeFileSync(FILE, text);
    expect(text).toBe(readFileSync(FILE, 'utf8'));
  });
});
