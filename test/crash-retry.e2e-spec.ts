/**
 * A crash in the middle of keyed requests: the service is killed (SIGKILL)
 * while deposits with Idempotency-Keys are in flight, another instance starts
 * on the same database, and the clients retry every request that got no
 * answer, with the same keys, right away. Each retry gets the first answer
 * (when its work committed) or the work done now: never 409, never twice.
 *
 * PostgreSQL server only: the database must outlive the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './helpers/databases';
import { freePort, kill, Service, startService, until } from './helpers/service';

const PASSWORD = 'crash-admin-password';
const KEYS = 300;

(onServer ? describe : describe.skip)('retrying keyed requests after a crash', () => {
  const work = mkdtempSync(join(tmpdir(), 'bank-crash-e2e-'));
  let database: string;
  let service: Service | undefined;

  beforeAll(async () => {
    database = await cloneTemplate();
  });
  afterAll(async () => {
    if (service) await kill(service);
    await dropDatabase(database);
    rmSync(work, { recursive: true, force: true });
  });

  async function start(): Promise<string> {
    const port = await freePort();
    service = startService(work, {
      ...databaseEnv(database),
      ADMIN_PASSWORD: PASSWORD,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    await until('listening', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/health`)).ok || undefined;
      } catch {
        return undefined;
      }
    });
    return `http://127.0.0.1:${port}`;
  }

  async function call(
    base: string,
    method: string,
    path: string,
    token?: string,
    body?: object,
    key?: string,
  ): Promise<{ status: number; body: Record<string, unknown>; replayed: boolean }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      replayed: res.headers.get('idempotent-replayed') === 'true',
    };
  }

  it('every retry completes, and every key moved money exactly once', async () => {
    let base = await start();
    const login = await call(base, 'POST', '/api/v1/auth/login', undefined, {
      username: 'admin',
      password: PASSWORD,
    });
    let token = login.body.accessToken as string;
    const client = await call(base, 'POST', '/api/v1/clients', token, {
      nationalId: 'CRASH-1',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    const account = await call(base, 'POST', '/api/v1/accounts', token, {
      holderIds: [client.body.id],
    });
    const deposit = (i: number) =>
      call(
        base,
        'POST',
        `/api/v1/accounts/${account.body.id as string}/deposits`,
        token,
        { amount: '1.00', description: `deposit ${i}` },
        `crash-key-${i}`,
      );

    // 32 at a time, until the service is killed under them.
    const first = new Map<number, { status: number; body: Record<string, unknown> }>();
    let next = 0;
    const worker = async () => {
      while (next < KEYS) {
        const i = next++;
        try {
          first.set(i, await deposit(i));
        } catch {
          // no answer: the service died
        }
      }
    };
    const workers = Promise.all(Array.from({ length: 32 }, worker));
    await until('some answers', () => first.size >= 40 || undefined);
    await kill(service!);
    await workers;
    expect(first.size).toBeLessThan(KEYS);

    base = await start();
    token = (
      await call(base, 'POST', '/api/v1/auth/login', undefined, {
        username: 'admin',
        password: PASSWORD,
      })
    ).body.accessToken as string;
    const retries = await Promise.all(Array.from({ length: KEYS }, (_, i) => deposit(i)));
    const statuses = retries.map((r) => r.status);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    for (const [i, answer] of first) {
      if (answer.status === 201) {
        expect(retries[i].replayed).toBe(true);
        expect(retries[i].body).toEqual(answer.body);
      }
    }
    const after = await call(base, 'GET', `/api/v1/accounts/${account.body.id as string}`, token);
    expect(after.body.balance).toBe(`${KEYS}.00`);
    const list = await call(
      base,
      'GET',
      `/api/v1/accounts/${account.body.id as string}/operations?limit=1`,
      token,
    );
    expect(list.body.total).toBe(KEYS);
  }, 120_000);
});
