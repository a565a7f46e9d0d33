/**
 * The README's first run, as a newcomer follows it: `npm start` on an empty
 * folder (the embedded database, no ADMIN_PASSWORD, NODE_ENV unset, so
 * development), read the generated admin password off the output, log in,
 * pause, go on; then a restart on the same folder. (Metrics are on, on a port
 * of their own, only to see when the pause has closed the pool's idle
 * connection.) And the first start in production, which logs no password.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, kill, listening, Service, startService, until } from './helpers/service';

const BANNER = /Generated admin password \(shown only once\): log in as "admin" with (\S+)/;

const work = mkdtempSync(join(tmpdir(), 'bank-first-run-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const text = (line: Record<string, unknown>) => (typeof line.msg === 'string' ? line.msg : '');

describe('the first start on an empty embedded database', () => {
  let service: Service;
  let base: string;
  let metrics: string;
  const data = join(work, 'data');

  beforeAll(async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    service = startService(work, {
      NODE_ENV: undefined,
      DATA_DIR: data,
      PORT: String(port),
      ADMIN_PASSWORD: undefined,
      DATABASE_IDLE_TIMEOUT: '1s',
      METRICS_ENABLED: 'true',
      METRICS_PORT: String(metricsPort),
    });
    await until('the admin password', () => service.lines.some((l) => BANNER.test(text(l))));
  }, 120_000);
  afterAll(() => kill(service));

  it('prints the generated password last, as a plain line framed by rules, and nowhere else', () => {
    const at = service.lines.findIndex((l) => BANNER.test(text(l)));
    const banner = service.lines[at];
    expect(banner.plain).toBe(true);
    expect(text(service.lines[at - 1])).toMatch(/^=+$/);
    expect(text(service.lines[at + 1])).toMatch(/^=+$/);
    expect(at).toBeGreaterThan(service.lines.findIndex((l) => text(l).startsWith('Bank API')));
    expect(listening(service)).toHaveLength(1);
    const password = BANNER.exec(text(banner))![1];
    const everything = [...service.lines.map((l) => JSON.stringify(l)), ...service.stderr];
    expect(everything.filter((l) => l.includes(password))).toHaveLength(1);
  });

  it('logs in with it, and the session still works once the pool closed its idle connection', async () => {
    const password = BANNER.exec(text(service.lines.find((l) => BANNER.test(text(l)))!))![1];
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const me = () =>
      fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await me()).status).toBe(200);
    // The pause: until the pool has closed its connection, idle for DATABASE_IDLE_TIMEOUT.
    await until('the pool to close its idle connection', async () => {
      const scrape = await (await fetch(metrics)).text();
      const open = /^bank_db_pool_connections(?:\{[^}]*\})? (\d+)$/m.exec(scrape);
      if (!open) throw new Error(`no pool gauge in the scrape:\n${scrape}`);
      return open[1] === '0' || undefined;
    });
    expect((await me()).status).toBe(200);
  });

  it('prints no password on the next start', async () => {
    await kill(service);
    const port = await freePort();
    service = startService(work, {
      NODE_ENV: undefined,
      DATA_DIR: data,
      PORT: String(port),
      ADMIN_PASSWORD: undefined,
    });
    await until('listening', () => listening(service).length === 1);
    expect(service.lines.some((l) => /admin password|first user/i.test(text(l)))).toBe(false);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
  }, 120_000);
});

describe('the first start in production on an empty database', () => {
  let service: Service;
  let base: string;
  const data = join(work, 'production-data');
  const file = join(data, 'admin-password');

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = startService(work, {
      NODE_ENV: 'production',
      DATA_DIR: data,
      PORT: String(port),
      ADMIN_PASSWORD: undefined,
    });
    await until('listening', () => listening(service).length === 1);
  }, 120_000);
  afterAll(() => kill(service));

  it('logs no password but the file that holds it, readable by its owner only, and it logs in', async () => {
    expect(service.lines.filter((l) => text(l).includes(file)).map(text)).toEqual([
      `Created the first user "admin" with a generated password, written to ${file} (readable by this user only)`,
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    expect(service.lines.some((l) => BANNER.test(text(l)))).toBe(false);
    const everything = [...service.lines.map((l) => JSON.stringify(l)), ...service.stderr];
    expect(everything.filter((l) => l.includes(password))).toEqual([]);
  });
});
