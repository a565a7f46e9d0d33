import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { register } from 'prom-client';
import { MetricsServer } from '../src/metrics/metrics-server';
import { ADMIN_PASSWORD, TestApp, TokenPair, freshAddress } from './helpers/app';
import { Account, Banking, uniqueName } from './helpers/banking';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './helpers/databases';
import { expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';
import { freePort, kill, listening, Service, startService, until } from './helpers/service';
import { grew, scrape } from './helpers/metrics';

/**
 * Prometheus metrics (METRICS_ENABLED): what an operator scraping
 * METRICS_HOST:METRICS_PORT sees after the requests they would make, and
 * that the API's own port never serves them.
 */

describe('metrics off (the default)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('has no /metrics on the API port: 404 problem details, as any unknown route', async () => {
    const res = await t.http.get('/metrics');
    expectProblem(res, 404, 'NOT_FOUND', '/metrics');
  });

  it('registers no series and has no metrics server to start', async () => {
    const ours = (await register.getMetricsAsJSON()).filter((m) => m.name.startsWith('bank_'));
    expect(ours).toEqual([]);
    expect(() => t.app.get(MetricsServer)).toThrow();
  });
});

describe('metrics on (METRICS_ENABLED=true)', () => {
  let t: TestApp;
  let url: string;
  let teller: string;
  let bank: Banking;
  let closed = false;

  beforeAll(async () => {
    ({ t, teller, bank } = await withTeller({ METRICS_ENABLED: 'true', METRICS_PORT: '0' }));
    url = await t.app.get(MetricsServer).listen();
  });
  afterAll(async () => {
    if (!closed) await t.close();
  });

  it('serves Prometheus text on METRICS_HOST, and still 404 on the API port', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE bank_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE bank_operations_total counter');
    expectProblem(await t.http.get('/metrics'), 404, 'NOT_FOUND', '/metrics');
  });

  it("leaves the application's log where it was: the metrics server does not take Nest's logger", () => {
    const appLogger = t.app.get(PinoNestLogger);
    const warn = jest.spyOn(appLogger, 'warn');
    try {
      new Logger('Check').warn('logged after the metrics server started');
      expect(warn).toHaveBeenCalledWith('logged after the metrics server started', 'Check');
    } finally {
      warn.mockRestore();
    }
  });

  it('has every operation kind and refusal code from the first scrape, at 0 until counted', async () => {
    const s = await scrape(url);
    for (const kind of ['deposit', 'withdrawal', 'transfer', 'reversal']) {
      expect(s.all('bank_operations_total', { kind })).toHaveLength(1);
    }
    expect(s.all('bank_refusals_total', { code: 'ACCOUNT_NOT_ACTIVE' })).toEqual([
      expect.objectContaining({ value: 0 }),
    ]);
  });

  it('counts login failures on both login routes, and throttled logins', async () => {
    const address = freshAddress();
    const username = uniqueName('nobody');
    const login = (path: string) =>
      t.http
        .post(path)
        .set('X-Forwarded-For', address)
        .send({ username, password: 'a-wrong-password-for-metrics' });
    const before = await scrape(url);
    // Five failures for one name from one address (three ours, two simplejwt's), then the throttle.
    for (const path of ['/api/v1/auth/login', '/api/token/', '/api/v1/auth/login']) {
      expect((await login(path)).status).toBe(401);
    }
    expect((await login('/api/token/')).status).toBe(401);
    expect((await login('/api/v1/auth/login')).status).toBe(401);
    expect((await login('/api/v1/auth/login')).status).toBe(429);
    expect((await login('/api/token/')).status).toBe(429);
    const after = await scrape(url);

    expect(grew(before, after, 'bank_login_failures_total')).toBe(5);
    expect(grew(before, after, 'bank_logins_throttled_total')).toBe(2);
    // By their code, simplejwt's refusals too, though their bodies are Django's.
    expect(grew(before, after, 'bank_refusals_total', { code: 'INVALID_CREDENTIALS' })).toBe(5);
    expect(grew(before, after, 'bank_refusals_total', { code: 'TOO_MANY_REQUESTS' })).toBe(2);
  });

  it('counts the operations made by kind, an idempotent replay apart, and a refusal by its code', async () => {
    const from = await bank.open();
    const to = await bank.open();
    const key = `metrics-${randomUUID()}`;
    const before = await scrape(url);

    expect((await bank.deposit(from.id, '100.00', key)).status).toBe(201);
    const replay = await bank.deposit(from.id, '100.00', key);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expectProblem(await bank.withdraw(from.id, '1000.00'), 422, 'INSUFFICIENT_FUNDS');
    const withdrawal = await bank.withdraw(from.id, '10.00');
    expect(withdrawal.status).toBe(201);
    expect((await bank.transfer(from.id, to.id, '20.00')).status).toBe(201);
    expect((await bank.reverse(withdrawal.body.id as string)).status).toBe(201);
    const after = await scrape(url);

    const made = (kind: string) => grew(before, after, 'bank_operations_total', { kind });
    expect([made('deposit'), made('withdrawal'), made('transfer'), made('reversal')]).toEqual([
      1, 1, 1, 1,
    ]);
    expect(
      grew(before, after, 'bank_idempotent_replays_total', {
        route: '/api/v1/accounts/:id/deposits',
      }),
    ).toBe(1);
    expect(grew(before, after, 'bank_refusals_total', { code: 'INSUFFICIENT_FUNDS' })).toBe(1);
    // The balance the operations left: 100 - 10 - 20 + 10 (the reversal).
    expect(await bank.balance(from.id)).toBe('80.00');
  });

  it('counts a refresh token presented again (REFRESH_TOKEN_REUSED)', async () => {
    const refresh = (refreshToken: string) =>
      t.http.post('/api/v1/auth/refresh').send({ refreshToken });
    const first = await t.login('admin', ADMIN_PASSWORD);
    const second = (await refresh(first.refreshToken).expect(200)).body as TokenPair;
    await refresh(second.refreshToken).expect(200);
    const before = await scrape(url);
    expectProblem(await refresh(first.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    const after = await scrape(url);
    expect(grew(before, after, 'bank_refresh_token_reuses_total')).toBe(1);
    expect(grew(before, after, 'bank_refusals_total', { code: 'REFRESH_TOKEN_REUSED' })).toBe(1);
  });

  it("counts a reuse on simplejwt's refresh too, whose body only says token_not_valid", async () => {
    const refresh = (refresh: string) => t.http.post('/api/token/refresh/').send({ refresh });
    const first = await t.login('admin', ADMIN_PASSWORD);
    const second = (await refresh(first.refreshToken).expect(200)).body as { refresh: string };
    await refresh(second.refresh).expect(200);
    const before = await scrape(url);
    const reused = await refresh(first.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    const after = await scrape(url);
    expect(grew(before, after, 'bank_refresh_token_reuses_total')).toBe(1);
    expect(grew(before, after, 'bank_refusals_total', { code: 'REFRESH_TOKEN_REUSED' })).toBe(1);
  });

  it('times requests by route template: no id in any label, one label for unmatched routes', async () => {
    const account: Account = await bank.open();
    const missing = randomUUID();
    const route = '/api/v1/accounts/:id';
    const count = 'bank_http_request_duration_seconds_count';
    const before = await scrape(url);
    for (let i = 0; i < 3; i++) {
      await t.http.get(`/api/v1/accounts/${account.id}`).set('Authorization', `Bearer ${teller}`);
    }
    expectProblem(
      await t.http.get(`/api/v1/accounts/${missing}`).set('Authorization', `Bearer ${teller}`),
      404,
      'NOT_FOUND',
    );
    expectProblem(await t.http.get(`/no/such/route/${missing}`), 404, 'NOT_FOUND');
    const after = await scrape(url);

    const ok = { method: 'GET', route, status_code: '200' };
    expect(grew(before, after, count, ok)).toBe(3);
    expect(grew(before, after, count, { ...ok, status_code: '404' })).toBe(1);
    expect(
      grew(before, after, count, { method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    expect(after.value('bank_http_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
    // The buckets add up to the count: le="+Inf" holds every request.
    expect(after.value('bank_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(
      after.value(count, ok),
    );
    expect(after.text).not.toContain(account.id);
    expect(after.text).not.toContain(missing);
    expect(after.text).not.toContain('/no/such');
  });

  it('counts a client that drops its body as aborted, never as an outage', async () => {
    const route = '/api/v1/auth/login';
    const before = await scrape(url);
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write(
      `POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"username":`,
    );
    await new Promise((done) => setTimeout(done, 100));
    socket.destroy();
    const after = await until('the aborted request counted', async () => {
      const now = await scrape(url);
      const labels = { route, outcome: 'aborted' };
      return grew(before, now, 'bank_http_request_duration_seconds_count', labels) > 0
        ? now
        : undefined;
    });
    expect(
      grew(before, after, 'bank_http_request_duration_seconds_count', {
        route,
        outcome: 'aborted',
      }),
    ).toBe(1);
    expect(grew(before, after, 'bank_refusals_total', { code: 'SERVICE_UNAVAILABLE' })).toBe(0);
    expect(grew(before, after, 'bank_login_failures_total')).toBe(0);
  });

  it("reads the database pool's state at scrape time and times its statements", async () => {
    const before = await scrape(url);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${teller}`).expect(200);
    const after = await scrape(url);

    // Just used, the pool's connection is open and back in the pool (DATABASE_POOL_SIZE 6; 1 embedded).
    const total = after.value('bank_db_pool_connections');
    expect(total).toBeGreaterThanOrEqual(1);
    expect(total).toBeLessThanOrEqual(onServer ? 6 : 1);
    expect(after.value('bank_db_pool_idle_connections')).toBe(total);
    expect(after.value('bank_db_pool_waiting_clients')).toBe(0);
    expect(grew(before, after, 'bank_db_query_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(after.value('bank_db_query_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it("has the process's default metrics: CPU, memory, heap, event-loop delay", async () => {
    const s = await scrape(url);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(s.all(name)).toHaveLength(1);
    }
    expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('closes its metrics port when the application closes', async () => {
    await t.close();
    closed = true;
    await expect(fetch(url)).rejects.toThrow();
  });
});

/**
 * The service as an operator starts it: src/main.ts in a child process.
 * Alone, it serves its own metrics; with WEB_CONCURRENCY workers, the
 * primary serves all of theirs, summed.
 */
describe('the service started with METRICS_ENABLED', () => {
  const work = mkdtempSync(join(tmpdir(), 'bank-metrics-e2e-'));
  const services: Service[] = [];
  const start = (env: Record<string, string>) => {
    const service = startService(work, {
      ADMIN_PASSWORD: 'metrics-admin-password',
      METRICS_ENABLED: 'true',
      ...env,
    });
    services.push(service);
    return service;
  };
  const linesSaying = (service: Service, text: string) =>
    service.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(text));
  /** Failed logins, each on a new connection (so that the cluster hands them round its workers). */
  const failLogins = async (base: string, count: number) => {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ username: uniqueName('nobody'), password: 'wrong-password-here' }),
      });
      expect(res.status).toBe(401);
    }
  };

  afterAll(async () => {
    for (const service of services) await kill(service);
    rmSync(work, { recursive: true, force: true });
  });

  it('alone: serves its metrics on METRICS_PORT once the API listens, and closes it on SIGTERM', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const service = start({
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATA_DIR: join(work, 'alone'),
    });
    const served = await until(
      'the metrics line',
      () => linesSaying(service, 'Metrics served on')[0],
    );
    expect(served.msg).toBe(`Metrics served on http://127.0.0.1:${metricsPort}/metrics`);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

    await failLogins(`http://127.0.0.1:${port}`, 2);
    const s = await scrape(metricsUrl);
    expect(s.value('bank_login_failures_total')).toBe(2);
    const api = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { connection: 'close' },
    });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // Nest closes the application (and with it the metrics server), then lets the signal end it.
    service.child.kill('SIGTERM');
    await service.exited;
    expect(service.child.signalCode).toBe('SIGTERM');
    await expect(fetch(metricsUrl)).rejects.toThrow();
  }, 120_000);

  it('with workers: stops before forking any when METRICS_PORT is taken', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const { port: metricsPort } = taken.address() as AddressInfo;
    try {
      const service = start({
        WEB_CONCURRENCY: '2',
        // Never reached: the primary stops before any worker would connect.
        DATABASE_URL: 'postgresql://nobody@127.0.0.1:9/none',
        PORT: String(await freePort()),
        METRICS_PORT: String(metricsPort),
      });
      expect(await service.exited).toBe(1);
      expect(linesSaying(service, `Cannot serve metrics on 127.0.0.1:${metricsPort}`)).toEqual([
        expect.objectContaining({ level: 60, pid: service.child.pid }),
      ]);
      expect(linesSaying(service, 'Starting 2 workers')).toEqual([]);
    } finally {
      await new Promise((done) => taken.close(done));
    }
  }, 60_000);

  (onServer ? describe : describe.skip)('with WEB_CONCURRENCY=2 on PostgreSQL', () => {
    let database: string;

    beforeAll(async () => {
      database = await cloneTemplate();
    });
    afterAll(async () => {
      for (const service of services) await kill(service);
      await dropDatabase(database);
    });

    it("the primary alone serves the sum of its workers' metrics", async () => {
      const [port, metricsPort] = [await freePort(), await freePort()];
      const service = start({
        WEB_CONCURRENCY: '2',
        ...databaseEnv(database),
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
      });
      await until('two workers', () => listening(service).length >= 2 || undefined);
      const [served] = linesSaying(service, 'Metrics of all workers served on');
      expect(served).toMatchObject({ pid: service.child.pid });
      const base = `http://127.0.0.1:${port}`;
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

      await failLogins(base, 6);
      // Both workers answered some of them (round-robin over new connections)...
      const loginLines = await until('six request log lines', () => {
        const lines = service.lines.filter(
          (l) => (l.req as { url?: string } | undefined)?.url === '/api/v1/auth/login',
        );
        return lines.length >= 6 ? lines : undefined;
      });
      expect(new Set(loginLines.map((l) => l.pid))).toEqual(new Set(listening(service)));
      // ...and the scrape counts all six: the workers' registries, summed by the primary.
      const s = await scrape(metricsUrl);
      expect(s.value('bank_login_failures_total')).toBe(6);
      expect(s.value('bank_refusals_total', { code: 'INVALID_CREDENTIALS' })).toBe(6);
      expect(
        s.value('bank_http_request_duration_seconds_count', {
          method: 'POST',
          route: '/api/v1/auth/login',
          status_code: '401',
        }),
      ).toBe(6);
      // Two pools of at least one connection each; each worker's process, summed.
      expect(s.value('bank_db_pool_connections')).toBeGreaterThanOrEqual(2);
      expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(0);

      // No worker tried METRICS_PORT (the workers' listen would fail there), nor serves /metrics.
      expect(linesSaying(service, 'Metrics served on')).toEqual([]);
      expect(service.stderr.join('')).not.toMatch(/EADDRINUSE/);
      const api = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
      expect(api.status).toBe(404);

      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }, 120_000);
  });
});
