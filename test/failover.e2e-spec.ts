/**
 * A database failover with nothing lost. PostgreSQL 15 runs as a primary
 * with a synchronous standby, behind HAProxy; the service (started as
 * `npm start` does) writes keyed deposits and transfers through it. The
 * primary's postmaster is killed (SIGKILL) mid-load and the standby
 * promoted. Meanwhile the service answers 503 problem details; it reaches
 * the new primary without a restart; clients retry what got no answer with
 * the same keys; every operation acknowledged with 2xx is on the new
 * primary, every key moved money once, and every money rule holds.
 *
 * Needs Debian's PostgreSQL 15 server binaries and HAProxy; runs with the
 * PostgreSQL server suite (TEST_DATABASE_URL), not through a pooler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onServer, POOLER_URL } from './helpers/databases';
import { query, replicationAvailable, ReplicatedDatabase } from './helpers/replication';
import { freePort, kill, Service, startService, until } from './helpers/service';

const PASSWORD = 'failover-admin-password';
const run = onServer && !POOLER_URL && replicationAvailable();

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

(run ? describe : describe.skip)('failover to a synchronous standby', () => {
  const work = mkdtempSync(join(tmpdir(), 'bank-failover-e2e-'));
  let cluster: ReplicatedDatabase;
  let service: Service;
  let base: string;

  beforeAll(async () => {
    cluster = await ReplicatedDatabase.start();
    await query(cluster.url('postgres'), 'CREATE DATABASE bank');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = startService(work, {
      DATABASE_URL: cluster.url('bank'),
      ADMIN_PASSWORD: PASSWORD,
      PORT: String(port),
      LOG_LEVEL: 'error',
    });
    await until('the service', async () => {
      try {
        return (await fetch(`${base}/health`)).ok || undefined;
      } catch {
        return undefined;
      }
    });
  }, 120_000);

  let afterCleanup: (() => Promise<void>) | undefined;

  afterAll(async () => {
    await afterCleanup?.();
    if (service) await kill(service);
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function call(path: string, token?: string, body?: object, key?: string): Promise<Answer> {
    const res = await fetch(`${base}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  it('loses no acknowledged operation, and every retry completes', async () => {
    const token = (
      await call('/api/v1/auth/login', undefined, { username: 'admin', password: PASSWORD })
    ).body.accessToken as string;
    const client = await call('/api/v1/clients', token, {
      nationalId: 'FAILOVER-1',
      firstName: 'Grace',
      lastName: 'Hopper',
    });
    const accounts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const account = await call('/api/v1/accounts', token, { holderIds: [client.body.id] });
      accounts.push(account.body.id as string);
    }

    // Every request has its own key; `requests` is what the clients must see through.
    const requests = new Map<string, { path: string; body: object }>();
    const final = new Map<string, Answer>();
    const seen: Record<string, number> = {};
    let killedAt = 0;
    let firstSuccessAfter = 0;
    const send = async (key: string): Promise<Answer | undefined> => {
      const { path, body } = requests.get(key)!;
      const sentAfterKill = killedAt > 0;
      let answer: Answer | undefined;
      try {
        answer = await call(path, token, body, key);
      } catch {
        seen['no answer'] = (seen['no answer'] ?? 0) + 1;
        return undefined;
      }
      const code = typeof answer.body.code === 'string' ? answer.body.code : '';
      const label = `${answer.status} ${code}`.trim();
      seen[label] = (seen[label] ?? 0) + 1;
      if (answer.status < 300 || answer.body.code === 'INSUFFICIENT_FUNDS') {
        final.set(key, answer);
        if (sentAfterKill && !firstSuccessAfter && answer.status < 300)
          firstSuccessAfter = Date.now();
      }
      return answer;
    };
    let n = 0;
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const key = `failover-${w}-${n++}`;
        const from = accounts[n % 4];
        requests.set(
          key,
          n % 3 === 0
            ? {
                path: '/api/v1/transfers',
                body: { fromAccountId: from, toAccountId: accounts[(n + 1) % 4], amount: '1.00' },
              }
            : { path: `/api/v1/accounts/${from}/deposits`, body: { amount: '2.00' } },
        );
        const answer = await send(key);
        if (!answer || answer.status >= 500) await new Promise((r) => setTimeout(r, 100));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    // However the test ends, the clients stop.
    afterCleanup = async () => {
      stop = true;
      await load;
    };
    await until('some operations', () => final.size >= 50 || undefined);
    cluster.killPrimary();
    killedAt = Date.now();
    await cluster.promoteStandby();
    try {
      await until('a success on the new primary', () => firstSuccessAfter || undefined);
    } catch (error) {
      // What the service said meanwhile, for whoever reads the failure.
      console.log(
        'answers so far:',
        seen,
        'service exit:',
        service.child.exitCode,
        service.child.signalCode,
      );
      for (const line of service.lines.slice(-20)) console.log(JSON.stringify(line).slice(0, 400));
      console.log(service.stderr.join('').slice(-2000));
      throw error;
    }
    await until('more operations', () => final.size >= 150 || undefined);
    stop = true;
    await load;
    // The clients retry what got no answer, or 503, with the same key.
    for (const key of requests.keys()) {
      for (let attempt = 0; !final.has(key); attempt++) {
        expect(attempt).toBeLessThan(50);
        if (!(await send(key))) await new Promise((r) => setTimeout(r, 200));
      }
    }
    console.log(
      `failover: first 2xx ${firstSuccessAfter - killedAt} ms after the kill; answers:`,
      seen,
    );
    const unexpected = Object.keys(seen).filter(
      (label) =>
        !['201', '422 INSUFFICIENT_FUNDS', '503 SERVICE_UNAVAILABLE', 'no answer'].includes(label),
    );
    expect(unexpected).toEqual([]);
    expect(seen['503 SERVICE_UNAVAILABLE'] ?? 0).toBeGreaterThan(0);

    // On the new primary, directly: every acknowledged operation, each key once, the money rules.
    const url = cluster.directUrl(cluster.standbyPort, 'bank');
    expect((await query(url, 'SELECT pg_is_in_recovery() AS standby'))[0].standby).toBe(false);
    const ids = [...final.values()]
      .filter((a) => a.status === 201)
      .flatMap((a) =>
        a.body.debit ? [(a.body.debit as { id: string }).id] : [a.body.id as string],
      );
    const present = await query(
      url,
      `SELECT count(*)::int AS n FROM operations WHERE id = ANY('{${ids.join(',')}}'::uuid[])`,
    );
    expect(present[0].n).toBe(ids.length);
    const keys = await query(
      url,
      `SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE 'failover-%'`,
    );
    expect(keys[0].n).toBe(requests.size);
    const deposits = [...final.entries()].filter(
      ([k, a]) => a.status === 201 && requests.get(k)!.path.endsWith('deposits'),
    ).length;
    const transfers = [...final.entries()].filter(
      ([k, a]) => a.status === 201 && requests.get(k)!.path.endsWith('transfers'),
    ).length;
    const [counts] = await query(
      url,
      `SELECT count(*) FILTER (WHERE kind = 'deposit')::int AS deposits,
              count(DISTINCT transfer_id)::int AS transfers FROM operations`,
    );
    expect(counts).toEqual({ deposits, transfers });
    const [rules] = await query(
      url,
      `SELECT
         (SELECT count(*)::int FROM accounts a WHERE a.balance <> (SELECT coalesce(sum(CASE WHEN o.type = 'credit' THEN o.amount ELSE -o.amount END), 0) FROM operations o WHERE o.account_id = a.id)) AS balance_mismatches,
         (SELECT count(*)::int FROM (SELECT balance_after - coalesce(lag(balance_after) OVER w, 0) - CASE WHEN type = 'credit' THEN amount ELSE -amount END AS gap
            FROM operations WINDOW w AS (PARTITION BY account_id ORDER BY created_at, seq)) x WHERE gap <> 0) AS broken_chain,
         (SELECT count(*)::int FROM accounts WHERE balance < -overdraft_limit) AS below_limit`,
    );
    expect(rules).toEqual({ balance_mismatches: 0, broken_chain: 0, below_limit: 0 });
  }, 180_000);
});
