import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_JWT_SECRET } from './helpers/app';
import { cloneTemplate, databaseUrl, dropDatabase, onServer } from './helpers/databases';
import { relayedDatabase } from './helpers/relay';

/**
 * WEB_CONCURRENCY: the service as an operator starts it (src/main.ts in a
 * child process, through ts-node), with several worker processes.
 */

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'src', 'main.ts');
const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;
const work = mkdtempSync(join(tmpdir(), 'bank-cluster-e2e-'));

interface Service {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

function start(env: Record<string, string>): Service {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_PASSWORD: 'cluster-admin-password',
    HOST: '127.0.0.1',
    DOCS_ENABLED: 'false',
    TS_NODE_TRANSPILE_ONLY: 'true',
    TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
  };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'WEB_CONCURRENCY']) delete childEnv[name];
  Object.assign(childEnv, env);
  const child = spawn(
    process.execPath,
    ['-r', join(ROOT, 'node_modules', 'ts-node', 'register'), MAIN],
    { cwd: work, env: childEnv },
  );
  const service: Service = {
    child,
    lines: [],
    stderr: [],
    exited: new Promise((done) => child.once('exit', (code) => done(code))),
  };
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) {
      try {
        service.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        service.lines.push({ msg: line });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => service.stderr.push(chunk.toString()));
  return service;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>) {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pids of the workers that said they are listening. */
const listening = (service: Service) =>
  service.lines
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Bank API listening'))
    .map((l) => l.pid as number);

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('refuses WEB_CONCURRENCY above 1 on the embedded database, naming the variable', async () => {
  const service = start({ WEB_CONCURRENCY: '2', DATA_DIR: join(work, 'data'), PORT: '0' });
  expect(await service.exited).toBe(1);
  const stderr = service.stderr.join('');
  expect(stderr).toMatch(/WEB_CONCURRENCY above 1 needs DATABASE_URL/);
  expect(stderr).not.toMatch(STACK_LINE);
}, 60_000);

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
      DATABASE_URL: databaseUrl(database),
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
