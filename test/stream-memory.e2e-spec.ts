/**
 * What never-reading clients cost the service (docs/api-guide.md: a
 * reader that takes nothing for STREAM_IDLE_TIMEOUT is cut off): 60
 * connections that ask for a long statement and read nothing hold its
 * batches in the service's memory until they are cut off, then give it back.
 * Measured on the service as production runs it (npm run start:prod's
 * runtime flags), in a process of its own, each time after a full garbage
 * collection asked through the inspector: what the service keeps, not what
 * its collector has not got to yet.
 *
 * PostgreSQL server only: there a batch is 5,000 operations (about 1.6 MB of
 * JSON), so 60 stalled answers hold hundreds of MB. On the embedded database
 * a batch is 500 and the same sockets hold about 20 MB; the cut-off itself
 * is tested on both (streams.e2e-spec.ts).
 */
import { readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { ADMIN_PASSWORD, TestApp } from './helpers/app';
import { createAccount, createClient, createTeller } from './helpers/banking';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './helpers/databases';
import { seedDeposits } from './helpers/history';
import { Inspected } from './helpers/inspector';
import { freePort, kill, productionRuntime, Service, startService, until } from './helpers/service';

const SOCKETS = 60;
const OPERATIONS = 20_000;
const IDLE_SECONDS = 3;
const MB = 1024 * 1024;

/** The resident set of a process, in bytes. */
function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

(onServer ? describe : describe.skip)('never-reading statement clients', () => {
  let database: string;
  let service: Service | undefined;
  let base: string;
  let port: number;
  let accountId: string;
  let inspectPort: number;
  let inspector: Inspected | undefined;

  /** The resident set once the collector has freed all the garbage (a second later). */
  async function settledRss(pid: number): Promise<number> {
    await inspector!.collectGarbage();
    await new Promise((done) => setTimeout(done, 1000));
    return rss(pid);
  }

  beforeAll(async () => {
    database = await cloneTemplate();
    const setup = await TestApp.start({}, { database });
    try {
      const admin = await setup.adminToken();
      const teller = await createTeller(setup, admin);
      const client = await createClient(setup, teller.token);
      accountId = (await createAccount(setup, teller.token, { holderIds: [client.id] })).id;
      const db = setup.app.get(DataSource);
      await seedDeposits((sql, params) => db.query(sql, params), accountId, OPERATIONS, teller.id);
    } finally {
      await setup.close();
    }
    port = await freePort();
    do inspectPort = await freePort();
    while (inspectPort === port);
    base = `http://127.0.0.1:${port}`;
    const production = productionRuntime();
    service = startService(
      process.cwd(),
      {
        ...production.env,
        ...databaseEnv(database),
        ADMIN_PASSWORD,
        PORT: String(port),
        STATEMENT_CONCURRENCY: String(SOCKETS + 4),
        STREAM_IDLE_TIMEOUT: String(IDLE_SECONDS),
      },
      [...production.nodeArgs, `--inspect=127.0.0.1:${inspectPort}`],
    );
    await until('listening', async () => {
      try {
        return (await fetch(`${base}/health`)).ok || undefined;
      } catch {
        return undefined;
      }
    });
  });
  afterAll(async () => {
    inspector?.close();
    if (service) await kill(service);
    await dropDatabase(database);
  });

  it(`${SOCKETS} stalled statements are cut off, and the service's memory comes back within 100 MB of idle`, async () => {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const path = `/api/v1/accounts/${accountId}/statement`;
    // Warm: the statement read whole twice, so what it allocates once is in the idle figure.
    for (let round = 0; round < 2; round++) {
      const whole = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const body = (await whole.json()) as { operations: unknown[] };
      expect(body.operations).toHaveLength(OPERATIONS);
    }
    const pid = service!.child.pid!;
    inspector = await Inspected.connect(inspectPort);
    const idle = await settledRss(pid);

    const sockets: Socket[] = [];
    const heads = Array.from({ length: SOCKETS }, () => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${accessToken}\r\n\r\n`,
      );
      return new Promise<string>((done) =>
        socket.once('data', (chunk: Buffer) => {
          socket.pause();
          done(chunk.toString('latin1').split('\r\n')[0]);
        }),
      );
    });
    try {
      expect(new Set(await Promise.all(heads))).toEqual(new Set(['HTTP/1.1 200 OK']));
      let peak = idle;
      const cut = () =>
        service!.lines.filter((l) => l.msg === 'request aborted' && l.reason === 'idle_timeout')
          .length;
      await until('every stalled statement cut off', () => {
        peak = Math.max(peak, rss(pid));
        return cut() >= SOCKETS || undefined;
      });
      expect(cut()).toBe(SOCKETS);
      const settled = await settledRss(pid);
      expect(settled - idle).toBeLessThan(100 * MB);
      // What the test measures is there to measure: the stalled answers held real memory.
      expect(peak - idle).toBeGreaterThan(50 * MB);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 150_000);
});
