import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './helpers/databases';
import { relayedDatabase } from './helpers/relay';
import { freePort, listening, Service, STACK_LINE, startService, until } from './helpers/service';

/**
 * WEB_CONCURRENCY: the service as an operator starts it (src/main.ts in a
 * child process, through ts-node), with several worker processes.
 */

const work = mkdtempSync(join(tmpdir(), 'bank-cluster-e2e-'));
const start = (env: Record<string, string>): Service =>
  startService(work, { ADMIN_PASSWORD: 'cluster-admin-password', ...env });

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('refuses WEB_CONCURRENCY above 1 on the embedded database, naming the variable', async () => {
  const service = start({ WEB_CONCURRENCY: '2', DATA_DIR: join(work, 'data'), PORT: '0' });
  expect(await service.exited).toBe(1);
  const stderr = service.stderr.join('');
  expect(stderr).toMatch(/WEB_CONCURRENCY above 1 needs DATABASE_URL/);
  expect(stderr).not.toMatch(STACK_LINE);
}, 60_000);

it('exits 1 when its workers cannot start (an unreachable database), not 0', async () => {
  const nothing = await freePort();
  const service = start({
    WEB_CONCURRENCY: '2',
    DATABASE_URL: `postgresql://postgres@127.0.0.1:${nothing}/bank`,
    PORT: '0',
  });
  expect(await service.exited).toBe(1);
  expect(service.lines.map((l) => l.msg)).toContainEqual(
    expect.stringMatching(/A worker failed to start/),
  );
}, 90_000);

(onServer ? describe : describe.skip)('with WEB_CONCURRENCY=2 on PostgreSQL', () => {
  let database: string;
  let service: Service;
  let base: string;

  beforeAll(async () => {
    database = await cloneTemplate();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = start({
      WEB_CONCURRENCY: '2',
      ...databaseEnv(database),
      PORT: String(port),
    });
    await until('two workers', () => listening(service).length >= 2 || undefined);
  }, 120_000);

  afterAll(async () => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
    await dropDatabase(database);
  });

  it('serves from two worker processes besides the primary', async () => {
    const workers = listening(service);
    expect(new Set(workers).size).toBe(2);
    expect(workers).not.toContain(service.child.pid);
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'cluster-admin-password' }),
    });
    expect(res.status).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };
    // A token issued by one worker is accepted by every worker (keep-alive off: new connections).
    for (let i = 0; i < 6; i++) {
      const me = await fetch(`${base}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${accessToken}`, connection: 'close' },
      });
      expect(me.status).toBe(200);
    }
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim] = listening(service);
    process.kill(victim, 'SIGKILL');
    await until('a replacement worker', () => listening(service).length >= 3 || undefined);
    expect(service.lines.some((l) => String(l.msg).includes(`Worker ${victim} exited`))).toBe(true);
    const health = await fetch(`${base}/health`, { headers: { connection: 'close' } });
    expect(health.status).toBe(200);
  }, 60_000);

  it('stops every worker, then itself, on SIGTERM', async () => {
    const workers = listening(service).filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(workers.length).toBe(2);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});

(onServer ? describe : describe.skip)('WEB_CONCURRENCY=2 through a database outage', () => {
  it('keeps retrying a replacement worker that cannot start, and starts it once the database is back', async () => {
    const { database, relay, url } = await relayedDatabase();
    const port = await freePort();
    const service = start({
      WEB_CONCURRENCY: '2',
      DATABASE_URL: url,
      PORT: String(port),
    });
    try {
      await until('two workers', () => listening(service).length >= 2 || undefined);
      await relay.down();
      const [victim, survivor] = listening(service);
      process.kill(victim, 'SIGKILL');
      await until('a failed replacement', () =>
        service.lines.some((l) => String(l.msg).startsWith('A replacement worker failed')),
      );
      expect(service.child.exitCode).toBeNull();
      expect(() => process.kill(survivor, 0)).not.toThrow();

      await relay.up();
      await until('a replacement listening', () => listening(service).length >= 3 || undefined);
      const health = await fetch(`http://127.0.0.1:${port}/health`, {
        headers: { connection: 'close' },
      });
      expect(health.status).toBe(200);
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    } finally {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      await relay.down();
      await dropDatabase(database);
    }
  }, 120_000);
});
