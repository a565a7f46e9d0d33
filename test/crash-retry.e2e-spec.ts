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
import type { Response } from 'supertest';
import { Account, banking, remote } from './helpers/banking';
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

  async function login(base: string): Promise<string> {
    const res = await remote(base)
      .http.post('/api/v1/auth/login')
      .send({ username: 'admin', password: PASSWORD });
    expect(res.status).toBe(200);
    return res.body.accessToken as string;
  }

  it('every retry completes, and every key moved money exactly once', async () => {
    let base = await start();
    let token = await login(base);
    /** The admin's money routes on the service running now. */
    const bank = () => banking(remote(base), token);
    const account: Account = await bank().open();
    /** The i-th request: a deposit of 1.00 with a key of its own. */
    const deposit = (i: number) =>
      bank().deposit(account.id, { amount: '1.00', description: `deposit ${i}` }, `crash-key-${i}`);

    // 32 at a time, until the service is killed under them.
    const first = new Map<number, Response>();
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
    token = await login(base);
    const retries = await Promise.all(Array.from({ length: KEYS }, (_, i) => deposit(i)));
    const statuses = retries.map((r) => r.status);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    for (const [i, answer] of first) {
      if (answer.status === 201) {
        expect(retries[i].headers['idempotent-replayed']).toBe('true');
        expect(retries[i].body).toEqual(answer.body);
      }
    }
    expect(await bank().balance(account.id)).toBe(`${KEYS}.00`);
    const list = await bank().operations(account.id, 'limit=1');
    expect(list.body.total).toBe(KEYS);
  }, 120_000);
});
