import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { TestApp, USER_PASSWORD, freshAddress } from './helpers/app';
import { withTeller } from './helpers/fixture';
import { freePort, kill, listening, Service, startService, until } from './helpers/service';

const PAGE = 'http://localhost:5173';
const EXPOSED = [
  'x-request-id',
  'retry-after',
  'idempotent-replayed',
  'content-disposition',
  'www-authenticate',
];

/** The headers a page may read, in lower case. */
const exposed = (res: Response) =>
  String(res.headers['access-control-expose-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);

const noCorsHeader = (res: Response) =>
  expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);

/**
 * What a page on another origin does in its first hour, at the HTTP level: a
 * preflight before the JSON login, the login, a deposit retried with its
 * Idempotency-Key whose replay the page can see, and the logout.
 */
describe.each([
  ['*', '*', false],
  [`${PAGE},https://app.example`, PAGE, true],
])('a browser on %s', (origins, allowOrigin, credentials) => {
  let t: TestApp;
  let teller: string;
  let tellerName: string;
  let accountId: string;

  beforeAll(async () => {
    let bank;
    ({ t, teller, tellerName, bank } = await withTeller({ CORS_ORIGINS: origins }));
    accountId = (await bank.open()).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const preflight = (path: string, method: string, headers: string) =>
    t.http
      .options(path)
      .set('Origin', PAGE)
      .set('Access-Control-Request-Method', method)
      .set('Access-Control-Request-Headers', headers);

  const expectAllowed = (res: Response) => {
    expect(res.headers['access-control-allow-origin']).toBe(allowOrigin);
    if (credentials) expect(res.headers['access-control-allow-credentials']).toBe('true');
    else expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(exposed(res).sort()).toEqual([...EXPOSED].sort());
  };

  it('logs in, deposits, sees the replay of a retried deposit, and logs out', async () => {
    const login = await preflight('/api/v1/auth/login', 'POST', 'content-type');
    expect(login.status).toBe(204);
    expect(login.headers['access-control-allow-origin']).toBe(allowOrigin);
    expect(login.headers['access-control-max-age']).toBe('600');
    expect(String(login.headers['access-control-allow-methods']).split(/\s*,\s*/)).toEqual(
      expect.arrayContaining(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']),
    );
    expect(
      String(login.headers['access-control-allow-headers'])
        .toLowerCase()
        .split(/\s*,\s*/)
        .sort(),
    ).toEqual(['authorization', 'content-type', 'idempotency-key', 'x-request-id']);

    const tokens = await t.http
      .post('/api/v1/auth/login')
      .set('Origin', PAGE)
      .set('X-Forwarded-For', freshAddress())
      .send({ username: tellerName, password: USER_PASSWORD });
    expect(tokens.status).toBe(200);
    expectAllowed(tokens);
    const access = (tokens.body as { accessToken: string }).accessToken;

    const path = `/api/v1/accounts/${accountId}/deposits`;
    const ask = await preflight(path, 'POST', 'authorization,content-type,idempotency-key');
    expect(ask.status).toBe(204);
    expect(ask.headers['access-control-allow-origin']).toBe(allowOrigin);

    const key = randomUUID();
    const deposit = () =>
      t.http
        .post(path)
        .set('Origin', PAGE)
        .set('Authorization', `Bearer ${access}`)
        .set('Idempotency-Key', key)
        .send({ amount: '10.00' });
    const first = await deposit();
    expect(first.status).toBe(201);
    expectAllowed(first);
    const again = await deposit();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectAllowed(again);
    expect(exposed(again)).toContain('idempotent-replayed');
    expect(again.body).toEqual(first.body);

    const logout = await t.http
      .post('/api/v1/auth/logout')
      .set('Origin', PAGE)
      .set('Authorization', `Bearer ${access}`);
    expect(logout.status).toBe(204);
    expectAllowed(logout);
    const after = await t.http
      .get('/api/v1/auth/me')
      .set('Origin', PAGE)
      .set('Authorization', `Bearer ${access}`);
    expect(after.status).toBe(401);
    expectAllowed(after);
    // The teller of the fixture is still logged in: only this session ended.
    expect(
      (await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${teller}`)).status,
    ).toBe(200);
  });

  it('allows every method the API has, PATCH and DELETE included', async () => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      const res = await preflight(`/api/v1/accounts/${randomUUID()}`, method, 'authorization');
      expect({ method, status: res.status }).toEqual({ method, status: 204 });
      expect(String(res.headers['access-control-allow-methods'])).toContain(method);
    }
  });
});

describe('CORS_ORIGINS with a list', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ CORS_ORIGINS: `${PAGE},https://app.example`, CORS_MAX_AGE: '5m' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('caches preflights for CORS_MAX_AGE', async () => {
    const res = await t.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-max-age']).toBe('300');
  });

  it.each([
    'https://evil.example',
    'http://localhost:5174',
    'https://app.example.evil.test',
    'null',
  ])('answers a preflight from %s 204 with no CORS header at all, never 405', async (origin) => {
    const res = await t.http
      .options('/api/v1/auth/login')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    expect(res.status).toBe(204);
    noCorsHeader(res);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('echoes nothing to an unlisted origin on a simple request', async () => {
    const res = await t.http.get('/health').set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    noCorsHeader(res);
    expect(String(res.headers['vary'])).toMatch(/origin/i);
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(['/api/v1/auth/login', `/api/v1/accounts/${randomUUID()}`, '/health'])(
    'answers a preflight on %s 204 with no CORS header, so the browser refuses by itself',
    async (path) => {
      const res = await t.http
        .options(path)
        .set('Origin', PAGE)
        .set('Access-Control-Request-Method', 'POST');
      expect(res.status).toBe(204);
      noCorsHeader(res);
    },
  );

  it('still answers 405 to an OPTIONS that is not a preflight', async () => {
    const res = await t.http.options('/api/v1/auth/login');
    expect(res.status).toBe(405);
  });
});

/** The start as a developer sees it: src/main.ts in a process of its own. */
describe('CORS at the start', () => {
  const started: Service[] = [];
  afterAll(async () => {
    for (const service of started) await kill(service);
  });

  const start = async (env: Record<string, string>) => {
    const service = startService(process.cwd(), {
      NODE_ENV: 'development',
      DATA_DIR: 'memory://',
      PORT: String(await freePort()),
      ...env,
    });
    started.push(service);
    return service;
  };
  const corsLines = (service: Service) =>
    service.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('CORS_ORIGINS'));

  it('without CORS_ORIGINS in development, says once how to allow a frontend', async () => {
    const service = await start({});
    await until('listening', () => listening(service).length === 1);
    expect(corsLines(service).map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^CORS_ORIGINS is empty: browsers on other origins will be refused.*CORS_ORIGINS=http:\/\/localhost:5173/,
      ),
    ]);
  });

  it('with CORS_ORIGINS, says nothing of it', async () => {
    const service = await start({ CORS_ORIGINS: PAGE });
    await until('listening', () => listening(service).length === 1);
    expect(corsLines(service)).toEqual([]);
  });

  it('a malformed origin stops the start, naming the variable and the value', async () => {
    const service = await start({ CORS_ORIGINS: `${PAGE},https://app.example/` });
    expect(await service.exited).not.toBe(0);
    expect(service.stderr.join('')).toContain(
      'CORS_ORIGINS has a malformed origin: https://app.example/',
    );
    expect(listening(service)).toEqual([]);
  });
});
