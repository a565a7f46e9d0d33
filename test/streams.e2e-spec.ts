import { randomUUID } from 'node:crypto';
import { get, IncomingMessage } from 'node:http';
import { connect, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { MetricsServer } from '../src/metrics/metrics-server';
import { TestApp, bearer } from './helpers/app';
import {
  Account,
  createAccount,
  createClient,
  createCustomer,
  createTeller,
} from './helpers/banking';
import { onServer } from './helpers/databases';
import { expectProblem } from './helpers/expect';
import { seedDeposits } from './helpers/history';
import { scrape } from './helpers/metrics';
import { until } from './helpers/service';

/**
 * Statements under control (docs/api-guide.md: long answers stream): at
 * most STATEMENT_CONCURRENCY streaming per user, over every instance; a
 * reader that takes nothing is cut off; a reader whose session or right to
 * the account ends mid-stream gets no more; an answer that stops early ends
 * without its final chunk; every statement request is counted, however it
 * ended.
 */

/**
 * Operations of the long account: a JSON statement of about 6.6 MB, more than
 * the socket buffers of a connection on loopback take (about 4 MB here).
 */
const LONG = 20_000;
const IDLE_SECONDS = 2;
const ROUTE = '/api/v1/accounts/:id/statement';

/** A statement request on its own connection that reads the answer's head, then nothing more. */
interface Stalled {
  socket: Socket;
  /** The status line and headers. */
  head: Promise<string>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  /** What arrived so far. */
  received: () => Buffer;
}

/** A running app with a long joint account (Grace Hopper and Alan Turing) and a short one. */
interface Bank {
  t: TestApp;
  port: number;
  metrics: string;
  admin: string;
  teller: string;
  /** Grace Hopper's customer token: she holds both accounts. */
  customer: string;
  long: Account;
  short: Account;
}

async function startBank(idleSeconds: number): Promise<Bank> {
  const t = await TestApp.start({
    STREAM_IDLE_TIMEOUT: String(idleSeconds),
    METRICS_ENABLED: 'true',
    METRICS_PORT: '0',
  });
  const metrics = await t.app.get(MetricsServer).listen();
  const server = t.app.getHttpServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  const admin = await t.adminToken();
  const staff = await createTeller(t, admin);
  const reader = await createClient(t, staff.token, { firstName: 'Grace', lastName: 'Hopper' });
  const partner = await createClient(t, staff.token, { firstName: 'Alan', lastName: 'Turing' });
  const customer = await createCustomer(t, admin, reader.id);
  const long = await createAccount(t, staff.token, { holderIds: [reader.id, partner.id] });
  const short = await createAccount(t, staff.token, { holderIds: [reader.id] });
  const db = t.app.get(DataSource);
  await seedDeposits((sql, params) => db.query(sql, params), long.id, LONG, staff.id);
  await seedDeposits((sql, params) => db.query(sql, params), short.id, 20, staff.id);
  return { t, port, metrics, admin, teller: staff.token, customer, long, short };
}

/** A statement request on its own connection that reads the answer's head, then nothing more. */
function stalled(port: number, token: string, accountId: string): Stalled {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let resolveHead: ((head: string) => void) | undefined;
  const head = new Promise<string>((done) => (resolveHead = done));
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (!resolveHead) return;
    const text = Buffer.concat(chunks).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return;
    resolveHead(text.slice(0, end));
    resolveHead = undefined;
    // Reads nothing more: the kernel's buffers fill, then the service's writes wait.
    socket.pause();
  });
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  socket.write(
    `GET /api/v1/accounts/${accountId}/statement HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  );
  return { socket, head, closed, received: () => Buffer.concat(chunks) };
}

/** Reads all that is left of a stalled answer, until the server closes the connection. */
async function drain(s: Stalled): Promise<Buffer> {
  s.socket.resume();
  await s.closed;
  return s.received();
}

const statusOf = (head: string) => Number(head.split(' ')[1]);
/** The operations a (JSON) statement's text holds. */
const deposits = (body: Buffer) => body.toString().split('"kind":"deposit"').length - 1;
/** A chunked answer ends with its last, empty chunk; one cut short does not. */
const complete = (body: Buffer) => body.subarray(-5).toString('latin1') === '0\r\n\r\n';

/** Counts of statement requests per outcome, as the metrics say. */
async function outcomes(metrics: string): Promise<Record<string, number>> {
  const s = await scrape(metrics);
  const count = (outcome: string) =>
    s
      .all('bank_http_request_duration_seconds_count', { route: ROUTE, outcome })
      .reduce((sum, sample) => sum + sample.value, 0);
  return { completed: count('completed'), aborted: count('aborted'), failed: count('failed') };
}

/** Waits for the metrics to count one more statement request of `outcome`. */
async function counted(metrics: string, before: Record<string, number>, outcome: string) {
  return until(`a statement counted ${outcome}`, async () => {
    const now = await outcomes(metrics);
    return now[outcome] > before[outcome] ? now : undefined;
  });
}

describe('a statement reader that takes nothing', () => {
  let bank: Bank;
  beforeAll(async () => {
    bank = await startBank(IDLE_SECONDS);
  });
  afterAll(async () => {
    await bank.t.close();
  });

  it('is cut off after STREAM_IDLE_TIMEOUT, its answer incomplete, and its slot freed', async () => {
    const before = await outcomes(bank.metrics);
    const s = stalled(bank.port, bank.customer, bank.long.id);
    expect(statusOf(await s.head)).toBe(200);
    const started = Date.now();
    // The service's side: the answer ended early, its reader cut off (a paused client sees its
    // connection close only once it reads again).
    const after = await counted(bank.metrics, before, 'aborted');
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000);
    expect(after.aborted - before.aborted).toBe(1);
    expect(after.completed - before.completed).toBe(0);
    const body = await drain(s);
    expect(complete(body)).toBe(false);
    expect(deposits(body)).toBeLessThan(LONG);
    // Its slot is free: the limit (2) still lets two more stream.
    const more = [
      stalled(bank.port, bank.customer, bank.long.id),
      stalled(bank.port, bank.customer, bank.long.id),
    ];
    for (const m of more) expect(statusOf(await m.head)).toBe(200);
    for (const m of more) m.socket.destroy();
  });

  it('is cut off even when it keeps sending bytes: only what it takes counts', async () => {
    const before = await outcomes(bank.metrics);
    const s = stalled(bank.port, bank.customer, bank.long.id);
    expect(statusOf(await s.head)).toBe(200);
    // The start of a next request, a byte at a time: traffic, but nothing taken.
    const drip = setInterval(() => s.socket.writable && s.socket.write('G'), 300);
    try {
      const after = await counted(bank.metrics, before, 'aborted');
      expect(after.aborted - before.aborted).toBe(1);
    } finally {
      clearInterval(drip);
      s.socket.destroy();
    }
  });
});

describe('statements under control', () => {
  let bank: Bank;
  let t: TestApp;
  let port: number;
  let metrics: string;
  let teller: string;
  let customer: string;
  let long: Account;
  let short: Account;

  beforeAll(async () => {
    // Long enough that no test here meets the idle cut-off, however slow the machine.
    bank = await startBank(60);
    ({ t, port, metrics, teller, customer, long, short } = bank);
  });
  afterAll(async () => {
    await t.close();
  });
  // The service frees a slot after the answer ends, a moment after the client sees it end:
  // each test starts with the user's slots free.
  afterEach(async () => {
    await until('every statement slot freed', async () => {
      const held = await t.app
        .get(DataSource)
        .query<unknown[]>(`SELECT 1 FROM statement_slots WHERE expires_at > now()`);
      return held.length === 0 ? true : undefined;
    });
  });

  it('a user streams at most STATEMENT_CONCURRENCY (2) at once: the next is 429, then served once one ends', async () => {
    const first = stalled(port, customer, long.id);
    const second = stalled(port, customer, long.id);
    expect(statusOf(await first.head)).toBe(200);
    expect(statusOf(await second.head)).toBe(200);

    const refused = await t.http
      .get(`/api/v1/accounts/${short.id}/statement`)
      .set(bearer(customer));
    expectProblem(refused, 429, 'TOO_MANY_REQUESTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another user is not held back by this one's streams.
    const staff = await t.http.get(`/api/v1/accounts/${short.id}/statement`).set(bearer(teller));
    expect(staff.status).toBe(200);

    first.socket.destroy();
    const served = await until('a slot freed', async () => {
      const res = await t.http.get(`/api/v1/accounts/${short.id}/statement`).set(bearer(customer));
      return res.status === 200 ? res : undefined;
    });
    expect(served.body.operations).toHaveLength(20);
    second.socket.destroy();
    await Promise.all([first.closed, second.closed]);
  });

  it('a statement stops when its reader is removed as a holder mid-stream, and ends incomplete', async () => {
    const before = await outcomes(metrics);
    const { res, body, ended } = pausedStatement(customer, long.id);
    expect((await res).statusCode).toBe(200);
    const holders = (await t.http.get(`/api/v1/accounts/${long.id}`).set(bearer(teller)))
      .body as Account;
    const reader = holders.holders.find((h) => h.firstName === 'Grace')!;
    const removed = await t.http
      .delete(`/api/v1/accounts/${long.id}/holders/${reader.id}`)
      .set(bearer(teller));
    expect(removed.status).toBe(204);
    (await res).resume();
    const { complete: whole } = await ended;
    expect(whole).toBe(false);
    expect(deposits(body())).toBeLessThan(LONG);
    expect(() => JSON.parse(body().toString()) as unknown).toThrow();
    const after = await until('the stop counted', async () => {
      const now = await outcomes(metrics);
      return now.failed > before.failed ? now : undefined;
    });
    expect(after.failed - before.failed).toBe(1);
    // The holder again, for the tests after this one.
    const back = await t.http
      .post(`/api/v1/accounts/${long.id}/holders`)
      .set(bearer(teller))
      .send({ clientId: reader.id });
    expect(back.status).toBe(200);
  });

  it('a statement stops when its reader logs out mid-stream', async () => {
    const before = await outcomes(metrics);
    const session = await createCustomerSession();
    const { res, body, ended } = pausedStatement(session, long.id);
    expect((await res).statusCode).toBe(200);
    const out = await t.http.post('/api/v1/auth/logout').set(bearer(session));
    expect(out.status).toBe(204);
    (await res).resume();
    expect((await ended).complete).toBe(false);
    expect(deposits(body())).toBeLessThan(LONG);
    // Stopped by the service (its reader's session ended), not cut off for idling.
    const after = await counted(metrics, before, 'failed');
    expect(after.failed - before.failed).toBe(1);
    expect(after.aborted - before.aborted).toBe(0);
  });

  it('HEAD of a statement answers its headers and reads nothing: no slot, no limit', async () => {
    const heads = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.http.head(`/api/v1/accounts/${long.id}/statement?format=csv`).set(bearer(customer)),
      ),
    );
    for (const head of heads) {
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/csv/);
      expect(head.headers['content-disposition']).toMatch(/^attachment; filename="statement-/);
    }
    const slots = await t.app
      .get(DataSource)
      .query<unknown[]>(`SELECT 1 FROM statement_slots WHERE expires_at > now()`);
    expect(slots).toEqual([]);
    const foreign = await t.http
      .head(`/api/v1/accounts/${randomUUID()}/statement`)
      .set(bearer(customer));
    expect(foreign.status).toBe(404);
  });

  it('a statement read to its end is whole and counted as completed', async () => {
    const before = await outcomes(metrics);
    const res = await t.http.get(`/api/v1/accounts/${short.id}/statement`).set(bearer(teller));
    expect(res.status).toBe(200);
    expect(res.body.closingBalance).toBe('20.00');
    const after = await until('the statement counted', async () => {
      const now = await outcomes(metrics);
      return now.completed > before.completed ? now : undefined;
    });
    expect(after.completed - before.completed).toBe(1);
  });

  it('a burst of 200 statement requests from one user never makes /health answer 503', async () => {
    const health: number[] = [];
    let bursting = true;
    const probe = (async () => {
      while (bursting) {
        health.push((await t.http.get('/health')).status);
        await new Promise((done) => setTimeout(done, 50));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        t.http.get(`/api/v1/accounts/${long.id}/statement`).set(bearer(customer)),
      ),
    );
    bursting = false;
    await probe;
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(served.length + refused.length).toBe(200);
    expect(served.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of served) expect(a.body.operations).toHaveLength(LONG);
    for (const a of refused) {
      expectProblem(a, 429, 'TOO_MANY_REQUESTS');
      expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(health.length).toBeGreaterThan(0);
    expect(health.filter((s) => s !== 200)).toEqual([]);
  });

  /** A statement read through Node's HTTP client, paused after its first chunk. */
  function pausedStatement(token: string, accountId: string) {
    const chunks: Buffer[] = [];
    let resolveEnd!: (end: { complete: boolean }) => void;
    const ended = new Promise<{ complete: boolean }>((done) => (resolveEnd = done));
    const res = new Promise<IncomingMessage>((resolve, reject) => {
      const req = get(
        {
          host: '127.0.0.1',
          port,
          path: `/api/v1/accounts/${accountId}/statement`,
          headers: bearer(token),
        },
        (answer) => {
          answer.once('data', (chunk: Buffer) => {
            chunks.push(chunk);
            answer.pause();
            answer.on('data', (more: Buffer) => chunks.push(more));
            resolve(answer);
          });
          answer.on('close', () => resolveEnd({ complete: answer.complete }));
          answer.on('error', () => undefined);
        },
      );
      req.on('error', reject);
    });
    return { res, ended, body: () => Buffer.concat(chunks) };
  }

  async function createCustomerSession(): Promise<string> {
    const admin = await t.adminToken();
    const holder = (await t.http.get(`/api/v1/accounts/${long.id}`).set(bearer(teller)))
      .body as Account;
    return createCustomer(t, admin, holder.holders.find((h) => h.firstName === 'Alan')!.id);
  }
});

(onServer ? describe : describe.skip)('statement limit over two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let customer: string;
  let account: Account;
  let port: number;

  beforeAll(async () => {
    a = await TestApp.start({ STREAM_IDLE_TIMEOUT: '30' });
    b = await TestApp.start({}, { database: a.database! });
    const server = a.app.getHttpServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
    const admin = await a.adminToken();
    const staff = await createTeller(a, admin);
    const client = await createClient(a, staff.token);
    customer = await createCustomer(a, admin, client.id);
    account = await createAccount(a, staff.token, { holderIds: [client.id] });
    const db = a.app.get(DataSource);
    await seedDeposits((sql, params) => db.query(sql, params), account.id, LONG, staff.id);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('two statements streaming on one instance leave none for the same user on another', async () => {
    const sockets = [0, 1].map(() => {
      const socket = connect(port, '127.0.0.1');
      socket.write(
        `GET /api/v1/accounts/${account.id}/statement HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${customer}\r\n\r\n`,
      );
      return new Promise<Socket>((done) =>
        socket.once('data', () => (socket.pause(), done(socket))),
      );
    });
    const open = await Promise.all(sockets);
    const elsewhere = await b.http
      .get(`/api/v1/accounts/${account.id}/statement`)
      .set(bearer(customer));
    expectProblem(elsewhere, 429, 'TOO_MANY_REQUESTS');
    for (const socket of open) socket.destroy();
    const served = await until('a slot freed on the other instance', async () => {
      const res = await b.http
        .get(`/api/v1/accounts/${account.id}/statement?from=2000-01-01&to=2000-01-01`)
        .set(bearer(customer));
      return res.status === 200 ? res : undefined;
    });
    expect(served.body.operations).toEqual([]);
  });
});
