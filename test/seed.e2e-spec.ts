import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DEMO_LOGINS, seedDemo } from '../src/demo/demo-data';
import { UsersService } from '../src/users/users.service';
import { TestApp, bearer } from './helpers/app';
import { cents, money } from './helpers/banking';
import { freePort, kill, listening, Service, startService, until } from './helpers/service';

describe('demo data (npm run seed:demo)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
    await seedDemo(t.app.get(DataSource), t.app.get(UsersService));
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives a teller login that sees joint and single accounts with months of history', async () => {
    const teller = await t.login(DEMO_LOGINS.teller.username, DEMO_LOGINS.teller.password);
    const accounts = await t.http
      .get('/api/v1/accounts?limit=100')
      .set(bearer(teller.accessToken))
      .expect(200);
    expect(accounts.body.total).toBe(5);
    expect(accounts.body.items.some((a: { holders: unknown[] }) => a.holders.length === 2)).toBe(
      true,
    );
    const ops = await t.http
      .get('/api/v1/operations?limit=1')
      .set(bearer(teller.accessToken))
      .expect(200);
    expect(ops.body.total).toBeGreaterThan(50);
    const oldest = await t.http
      .get(`/api/v1/operations?limit=1&page=${ops.body.total}`)
      .set(bearer(teller.accessToken));
    const age = Date.now() - new Date(oldest.body.items[0].createdAt).getTime();
    expect(age).toBeGreaterThan(60 * 86_400_000);
  });

  it('keeps every balance equal to its operations, chained, within the overdraft', async () => {
    const teller = await t.login(DEMO_LOGINS.teller.username, DEMO_LOGINS.teller.password);
    const accounts = await t.http.get('/api/v1/accounts?limit=100').set(bearer(teller.accessToken));
    for (const account of accounts.body.items) {
      const items: Array<{ type: string; amount: string; balanceAfter: string }> = [];
      for (let page = 1; ; page++) {
        const res = await t.http
          .get(`/api/v1/accounts/${account.id}/operations?limit=100&page=${page}`)
          .set(bearer(teller.accessToken));
        items.push(...res.body.items);
        if (items.length >= res.body.total) break;
      }
      let balance = 0n;
      for (const op of items.reverse()) {
        balance += op.type === 'credit' ? cents(op.amount) : -cents(op.amount);
        expect(op.balanceAfter).toBe(money(balance));
        expect(balance).toBeGreaterThanOrEqual(-cents(account.overdraftLimit));
      }
      expect(cents(account.balance)).toBe(balance);
    }
  });

  it('gives a customer login that sees only its own accounts', async () => {
    const customer = await t.login(DEMO_LOGINS.customer.username, DEMO_LOGINS.customer.password);
    const res = await t.http.get('/api/v1/accounts').set(bearer(customer.accessToken)).expect(200);
    expect(res.body.total).toBe(2);
    for (const account of res.body.items) {
      expect(account.holders.map((h: { firstName: string }) => h.firstName)).toContain('Ada');
    }
  });

  it('changes nothing when run again', async () => {
    const db = t.app.get(DataSource);
    const before = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM operations`,
    );
    expect(await seedDemo(db, t.app.get(UsersService))).toMatch(/already there/);
    const after = await db.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM operations`);
    expect(after[0].n).toBe(before[0].n);
  });
});

/**
 * `npm start -- --seed-demo`: the service seeds its own embedded database at
 * its start, so no second process needs the folder the service holds.
 */
describe('the service started with --seed-demo on the embedded database', () => {
  const work = mkdtempSync(join(tmpdir(), 'bank-seed-start-e2e-'));
  const data = join(work, 'data');
  let service: Service | undefined;
  afterAll(async () => {
    if (service) await kill(service);
    rmSync(work, { recursive: true, force: true });
  });

  const start = async (args: string[], env: Record<string, string | undefined> = {}) => {
    const port = await freePort();
    service = startService(work, { DATA_DIR: data, PORT: String(port), ...env }, [], args);
    await until('listening', () => listening(service!).length === 1 || undefined, 120);
    return `http://127.0.0.1:${port}`;
  };
  const logged = () => service!.lines.map((l) => (typeof l.msg === 'string' ? l.msg : ''));

  it('writes the demo before it answers, and a demo login sees it at once', async () => {
    const base = await start(['--seed-demo']);
    expect(logged().some((m) => m.startsWith('Demo data created: 4 clients, 5 accounts'))).toBe(
      true,
    );
    expect(logged().findIndex((m) => m.startsWith('Demo data created'))).toBeLessThan(
      logged().findIndex((m) => m.startsWith('Bank API listening')),
    );
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(DEMO_LOGINS.customer),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const accounts = await fetch(`${base}/api/v1/accounts`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(((await accounts.json()) as { total: number }).total).toBe(2);
  }, 180_000);

  it('changes nothing when started with it again, and SEED_DEMO=true is the same flag', async () => {
    await kill(service!);
    await start([], { SEED_DEMO: 'true' });
    expect(logged()).toContain('The demo data is already there; nothing changed.');
    expect(logged().some((m) => m.startsWith('Demo data created'))).toBe(false);
  }, 180_000);

  it('is refused in production, before anything starts', async () => {
    await kill(service!);
    const port = await freePort();
    service = startService(
      work,
      { NODE_ENV: 'production', DATA_DIR: data, PORT: String(port) },
      [],
      ['--seed-demo'],
    );
    expect(await service.exited).toBe(1);
    expect(service.stderr.join('')).toMatch(/SEED_DEMO \(--seed-demo\) .* refused in production/);
  }, 60_000);
});
