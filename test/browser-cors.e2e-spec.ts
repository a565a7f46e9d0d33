import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestApp, USER_PASSWORD } from './helpers/app';
import type { Banking } from './helpers/banking';
import { withTeller } from './helpers/fixture';

/**
 * CORS as a browser enforces it: Debian's Chromium, driven by playwright-core,
 * opens a page served from one origin and calls the API on another with
 * `fetch`, as a frontend does. test/cors.e2e-spec.ts checks the same headers
 * at the HTTP level; this file proves a browser accepts them (and refuses an
 * origin that is not listed).
 */

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SKIPPED = HAS_CHROMIUM
  ? ''
  : ` (skipped: ${CHROMIUM} is missing; install it with apt-get install -y chromium)`;
const describeInChromium = HAS_CHROMIUM ? describe : describe.skip;
if (!HAS_CHROMIUM) console.warn(`browser-cors.e2e-spec.ts${SKIPPED}`);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A frontend's origin: a tiny page, and 404 for anything else (the favicon). */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/' ? 200 : 404, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    res.end('<!doctype html><meta charset="utf-8"><title>a frontend</title><p>frontend</p>');
  });
  return { server, origin: await listen(server) };
}

async function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
}

/** What the page's JavaScript can see of an answer. */
interface Seen {
  status: number;
  replayed: string | null;
  requestId: string | null;
  body: unknown;
}

interface JourneyArgs {
  api: string;
  credentials: 'same-origin' | 'include';
  username: string;
  password: string;
  from: string;
  to: string;
  requestId: string;
}

/**
 * Runs IN THE PAGE (serialized by playwright): a frontend's first hour with
 * fetch. Everything it needs is inside the function.
 */
async function journey(a: JourneyArgs) {
  const seen = async (res: Response): Promise<Seen> => ({
    status: res.status,
    replayed: res.headers.get('idempotent-replayed'),
    requestId: res.headers.get('x-request-id'),
    body: res.status === 204 ? null : await res.json(),
  });
  const call = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) =>
    seen(
      await fetch(a.api + path, {
        method,
        credentials: a.credentials,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );

  const login = await call(
    'POST',
    '/api/v1/auth/login',
    {},
    {
      username: a.username,
      password: a.password,
    },
  );
  const token = (login.body as { accessToken: string }).accessToken;
  const auth = { Authorization: `Bearer ${token}` };

  const depositKey = crypto.randomUUID();
  const deposit = (extra: Record<string, string>) =>
    call(
      'POST',
      `/api/v1/accounts/${a.from}/deposits`,
      { ...auth, 'Idempotency-Key': depositKey, ...extra },
      { amount: '10.00' },
    );
  const firstDeposit = await deposit({ 'X-Request-Id': a.requestId });
  const depositAgain = await deposit({});

  const transferKey = crypto.randomUUID();
  const transfer = () =>
    call(
      'POST',
      '/api/v1/transfers',
      { ...auth, 'Idempotency-Key': transferKey },
      { fromAccountId: a.from, toAccountId: a.to, amount: '4.00' },
    );
  const firstTransfer = await transfer();
  const transferAgain = await transfer();

  const logout = await call('POST', '/api/v1/auth/logout', auth);
  const afterLogout = await call('GET', '/api/v1/auth/me', auth);
  return {
    login,
    firstDeposit,
    depositAgain,
    firstTransfer,
    transferAgain,
    logout,
    afterLogout,
  };
}

interface AttemptArgs {
  url: string;
  method: string;
  credentials: 'same-origin' | 'include';
  headers: Record<string, string>;
  body?: unknown;
}

/** An answer's status, or the error fetch threw. */
type Attempted = { status: number } | { error: string; message: string };

/** Runs IN THE PAGE: one fetch, and what the page learns of it, a CORS refusal included. */
async function attempt(a: AttemptArgs): Promise<Attempted> {
  try {
    const res = await fetch(a.url, {
      method: a.method,
      credentials: a.credentials,
      headers: a.headers,
      body: a.body === undefined ? undefined : JSON.stringify(a.body),
    });
    return { status: res.status };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const REFUSED = { error: 'TypeError', message: 'Failed to fetch' };

describeInChromium(`CORS in a real browser (Chromium)${SKIPPED}`, () => {
  let browser: Browser;
  /** The frontend listed in CORS_ORIGINS, and one that is not. */
  let listed: { server: Server; origin: string };
  let unlisted: { server: Server; origin: string };

  beforeAll(async () => {
    listed = await pageServer();
    unlisted = await pageServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await close(listed?.server);
    await close(unlisted?.server);
  });

  /**
   * Opens `origin`'s page in a fresh browser context and runs `run` on it;
   * gives what that returned and the console's messages (where Chromium says why
   * it refused a call).
   */
  async function inPage<R>(origin: string, run: (page: Page) => Promise<R>) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const consoleMessages: string[] = [];
      page.on('console', (message) => consoleMessages.push(message.text()));
      const loaded = await page.goto(`${origin}/`);
      expect(loaded?.status()).toBe(200);
      expect(new URL(page.url()).origin).toBe(origin);
      const result = await run(page);
      return { result, console: consoleMessages };
    } finally {
      await context.close();
    }
  }

  /** The application listening on a port of its own: another origin than the pages'. */
  function startApi(origins: () => string) {
    const state = {} as {
      t: TestApp;
      api: string;
      tellerName: string;
      teller: string;
      bank: Banking;
    };
    beforeAll(async () => {
      const fixture = await withTeller({ CORS_ORIGINS: origins() });
      Object.assign(state, fixture);
      state.api = await listen(fixture.t.app.getHttpServer());
      expect(state.api).not.toBe(listed.origin);
    });
    afterAll(async () => {
      await state.t?.close();
    });
    return state;
  }

  type Api = ReturnType<typeof startApi>;

  /**
   * A frontend's first hour, from the listed page: login, a deposit and a
   * transfer each sent twice with one Idempotency-Key, logout.
   */
  async function firstHour(s: Api, credentials: 'same-origin' | 'include') {
    const from = (await s.bank.open()).id;
    const to = (await s.bank.open()).id;
    const requestId = `page-${randomUUID()}`;
    const { result: r } = await inPage(listed.origin, (page) =>
      page.evaluate(journey, {
        api: s.api,
        credentials,
        username: s.tellerName,
        password: USER_PASSWORD,
        from,
        to,
        requestId,
      }),
    );

    expect(r.login.status).toBe(200);
    expect(r.login.body).toEqual(
      expect.objectContaining({ accessToken: expect.any(String), tokenType: 'Bearer' }),
    );
    expect(r.login.requestId).toEqual(expect.any(String));

    // The first deposit: done, not a replay; the page reads back its own X-Request-Id.
    expect(r.firstDeposit.status).toBe(201);
    expect(r.firstDeposit.replayed).toBeNull();
    expect(r.firstDeposit.requestId).toBe(requestId);
    // The same Idempotency-Key again: the page sees Idempotent-Replayed and the first answer.
    expect(r.depositAgain.status).toBe(201);
    expect(r.depositAgain.replayed).toBe('true');
    expect(r.depositAgain.requestId).toEqual(expect.any(String));
    expect(r.depositAgain.requestId).not.toBe(requestId);
    expect(r.depositAgain.body).toEqual(r.firstDeposit.body);

    expect(r.firstTransfer.status).toBe(201);
    expect(r.firstTransfer.replayed).toBeNull();
    expect(r.transferAgain.status).toBe(201);
    expect(r.transferAgain.replayed).toBe('true');
    expect(r.transferAgain.requestId).toEqual(expect.any(String));
    expect(r.transferAgain.body).toEqual(r.firstTransfer.body);

    // Logged out: the token no longer works, and the page can read the 401.
    expect(r.logout.status).toBe(204);
    expect(r.afterLogout.status).toBe(401);
    expect(r.afterLogout.requestId).toEqual(expect.any(String));
    expect(r.afterLogout.body).toEqual(
      expect.objectContaining({ status: 401, requestId: r.afterLogout.requestId }),
    );

    // Each operation happened once.
    expect(await s.bank.balance(from)).toBe('6.00');
    expect(await s.bank.balance(to)).toBe('4.00');
  }

  describe('CORS_ORIGINS=*', () => {
    const s = startApi(() => '*');

    it('a page on another origin logs in, deposits and transfers, reads the replays and X-Request-Id, and logs out', () =>
      firstHour(s, 'same-origin'));

    it("refuses a credentialed fetch, as the browser must with '*'", async () => {
      const { result } = await inPage(listed.origin, (page) =>
        page.evaluate<Attempted, AttemptArgs>(attempt, {
          url: `${s.api}/api/v1/auth/login`,
          method: 'POST',
          credentials: 'include',
          headers: { 'Content-Type': 'application/json' },
          body: { username: s.tellerName, password: USER_PASSWORD },
        }),
      );
      expect(result).toEqual(REFUSED);
    });
  });

  describe("CORS_ORIGINS=the page's origin,https://app.example (credentials mode)", () => {
    const s = startApi(() => `${listed.origin},https://app.example`);

    it('the listed page logs in, deposits and transfers, reads the replays and X-Request-Id, and logs out, with credentials', () =>
      firstHour(s, 'include'));

    it('refuses a page on an origin not in the list: fetch throws TypeError, and the deposit never reaches the API', async () => {
      const account = (await s.bank.open()).id;
      const calls = (origin: string) =>
        inPage(origin, async (page) => {
          const call = (path: string, headers: Record<string, string>, body?: unknown) =>
            page.evaluate<Attempted, AttemptArgs>(attempt, {
              url: `${s.api}${path}`,
              method: body === undefined ? 'GET' : 'POST',
              credentials: 'same-origin',
              headers,
              body,
            });
          return {
            login: await call(
              '/api/v1/auth/login',
              { 'Content-Type': 'application/json' },
              { username: s.tellerName, password: USER_PASSWORD },
            ),
            deposit: await call(
              `/api/v1/accounts/${account}/deposits`,
              {
                Authorization: `Bearer ${s.teller}`,
                'Content-Type': 'application/json',
                'Idempotency-Key': randomUUID(),
              },
              { amount: '10.00' },
            ),
            // A simple request (no preflight): the API answers, the browser hides the answer.
            health: await call('/health', {}),
          };
        });

      const refused = await calls(unlisted.origin);
      expect(refused.result).toEqual({ login: REFUSED, deposit: REFUSED, health: REFUSED });
      expect(refused.console.filter((m) => m.includes('blocked by CORS policy'))).toHaveLength(3);
      expect(await s.bank.balance(account)).toBe('0.00');

      // The same calls from the listed origin, against the same API, go through.
      const allowed = await calls(listed.origin);
      expect(allowed.result).toEqual({
        login: { status: 200 },
        deposit: { status: 201 },
        health: { status: 200 },
      });
      expect(await s.bank.balance(account)).toBe('10.00');
    });
  });
});
