/**
 * npm run bench: the service against PostgreSQL's own pgbench on this machine.
 *
 * Starts the built service (production mode, logs at warn) on a fresh database
 * of the PostgreSQL server, seeds it through the API, then alternates each
 * scenario with its pgbench reference so drift hits both, checks the ledger
 * after the write scenarios, and prints a table (also written as JSON under
 * bench/results/). The service runs as `npm run start:prod` would run it. The
 * throughput scenarios are then run again with BENCH_WORKERS processes
 * (WEB_CONCURRENCY) and through PgBouncer in transaction mode, and a deposit
 * run on the embedded database closes.
 *
 * Settings: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (32), BENCH_WORKERS (2;
 * 1 skips that part), BENCH_POOLER (0 skips the PgBouncer part), BENCH_SCENARIOS (a comma-separated subset of read_account,
 * list_operations, deposit, transfer, floor, login, login_interference,
 * embedded_deposit), BENCH_NODE_ARGS (extra node flags for the service, such as
 * --cpu-prof), BENCH_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres).
 */
import { Request as AcRequest } from 'autocannon';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, login, Seeded, seedSmall } from './lib/api';
import { apiLedgerProblems, ledgerProblems } from './lib/ledger';
import { checkAnswersAlike, startFloor } from './lib/floor';
import { deposit, failures, get, Load, load, readAccount, Row, row, transfer } from './lib/load';
import { pgbench, pgbenchInit } from './lib/pgbench';
import { throughputTable, writeResults } from './lib/report';
import { ADMIN_PASSWORD, freePort, rssMb, Service, startService, stopService } from './lib/service';
import { admin, CONNECTIONS, DURATION, ROOT, urlFor, wanted, WORKERS } from './lib/settings';

const SUFFIX = randomBytes(3).toString('hex');
const APP_DB = `bank_bench_${SUFFIX}`;
const WORKERS_DB = `bank_bench_workers_${SUFFIX}`;
const POOLER_DB = `bank_bench_pooler_${SUFFIX}`;
/** Also run the throughput scenarios through PgBouncer in transaction mode; BENCH_POOLER=0: not. */
const POOLER = process.env.BENCH_POOLER !== '0';
const PGBENCH_DB = `bank_pgbench_${SUFFIX}`;
/** The service's HS256 secret, which the floor server verifies tokens with too. */
const JWT_SECRET = randomBytes(48).toString('base64url');
/** Rounds of the service/floor comparison, alternated. */
const FLOOR_ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);

/**
 * The four throughput scenarios, each right after its pgbench reference;
 * answers the read_account row (the login flood compares with it).
 */
export async function throughput(
  service: Service,
  seeded: Seeded,
  label: string,
  rows: Row[],
  pgbenchDb: string,
): Promise<Row | undefined> {
  const { token, accounts, hot } = seeded;
  const pid = service.child.pid;
  const compare = (r: Row, reference: string, tps: number, target: number) =>
    rows.push({ ...r, reference, referenceTps: Math.round(tps), ratio: r.rps / tps, target });
  const measure = async (scenario: string, requests: AcRequest[]) =>
    row(`${scenario}${label}`, await load(service.base, token, requests, { pid }));

  let readAlone: Row | undefined;
  if (wanted('read_account') || (!label && wanted('login_interference'))) {
    const tps = pgbench(pgbenchDb, ['-S']);
    readAlone = await measure('read_account', readAccount(accounts));
    compare(readAlone, 'select-only', tps, 0.4);
  }
  if (wanted('list_operations')) {
    const tps = pgbench(pgbenchDb, ['-S']);
    const r = await measure('list_operations', get(`/api/v1/accounts/${hot}/operations?limit=20`));
    compare(r, 'select-only', tps, 0.25);
  }
  if (wanted('deposit')) {
    const tps = pgbench(pgbenchDb, ['-N']);
    compare(await measure('deposit', deposit(accounts)), 'simple-update', tps, 0.6);
  }
  if (wanted('transfer')) {
    const tps = pgbench(pgbenchDb, []);
    compare(await measure('transfer', transfer(accounts)), 'tpcb-like', tps, 0.6);
  }
  return readAlone;
}

/**
 * The service against the floor (bench/floor/server.ts: node:http, the same
 * token check, statement, JSON and headers; checked to answer alike first) on
 * its two hottest reads, alternated over FLOOR_ROUNDS rounds; the medians,
 * with both processes' CPU per request.
 */
async function againstFloor(service: Service, seeded: Seeded, rows: Row[]): Promise<void> {
  const floor = await startFloor(urlFor(APP_DB), JWT_SECRET);
  try {
    await checkAnswersAlike(service, floor, seeded.token, [
      `/api/v1/accounts/${seeded.accounts[0]}`,
      '/api/v1/auth/me',
    ]);
    const routes: Array<[string, AcRequest[], number]> = [
      ['read_account', readAccount(seeded.accounts), 0.85],
      ['auth/me', get('/api/v1/auth/me'), 0.75],
    ];
    for (const [name, requests, target] of routes) {
      const ours: Load[] = [];
      const bare: Load[] = [];
      for (let round = 0; round < FLOOR_ROUNDS; round++) {
        ours.push(await load(service.base, seeded.token, requests, { pid: service.child.pid }));
        const floorLoad = await load(floor.base, seeded.token, requests, { pid: floor.child.pid });
        if (failures(floorLoad) > 0) {
          throw new Error(`the floor failed ${failures(floorLoad)} requests of ${name}`);
        }
        bare.push(floorLoad);
      }
      const median = (loads: Load[], of: (l: Load) => number) => {
        const sorted = loads.map(of).sort((a, b) => a - b);
        return sorted[Math.floor(sorted.length / 2)];
      };
      const serviceRow = row(`${name} (service)`, ours[0]);
      const rps = median(ours, (l) => l.requests.average);
      const floorRps = median(bare, (l) => l.requests.average);
      rows.push({
        ...serviceRow,
        rps: Math.round(rps),
        p99: median(ours, (l) => l.latency.p99),
        errors: ours.reduce((n, l) => n + failures(l), 0),
        cpuMsPerRequest: median(ours, (l) => l.cpuMsPerRequest ?? 0),
        reference: `floor (${median(bare, (l) => l.cpuMsPerRequest ?? 0).toFixed(3)} ms cpu/req)`,
        referenceTps: Math.round(floorRps),
        ratio: rps / floorRps,
        target,
      });
    }
  } finally {
    await stopService(floor);
  }
}

/** 16 tellers to log in as, made through the API. */
async function loginUsersFor(
  service: Service,
): Promise<Array<{ username: string; password: string }>> {
  const adminToken = await login(service, { username: 'admin', password: ADMIN_PASSWORD });
  const users = Array.from({ length: 16 }, (_, i) => ({
    username: `bench-login-${i}`,
    password: 'bench-login-password',
  }));
  for (const user of users) {
    await api(service, 'POST', '/api/v1/users', { ...user, role: 'teller' }, adminToken);
  }
  return users;
}

interface Memory {
  rss: number;
  peak: number;
}

async function main(): Promise<void> {
  await admin(`CREATE DATABASE ${APP_DB}`);
  await admin(`CREATE DATABASE ${PGBENCH_DB}`);
  let service: Service | undefined;
  try {
    pgbenchInit(PGBENCH_DB);
    service = await startService({ url: urlFor(APP_DB) }, { JWT_SECRET });
    const seeded = await seedSmall(service);
    console.log(
      `seeded: 3 clients, ${seeded.accounts.length} accounts, 20 operations on one; ${DURATION} s per run, ${CONNECTIONS} connections`,
    );

    const rows: Row[] = [];
    const readAlone = await throughput(service, seeded, '', rows, PGBENCH_DB);
    const pid = service.child.pid;
    if (wanted('floor')) await againstFloor(service, seeded, rows);

    // Logins of 16 users in turn: one address (the bench's) stays under the throttle's 20
    // attempts in flight, and one user under its 5 (an attempt counts until it has succeeded).
    const loginUsers = await loginUsersFor(service);
    let nextLogin = 0;
    const loginRequest: AcRequest[] = [
      {
        method: 'POST',
        path: '/api/v1/auth/login',
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify(loginUsers[nextLogin++ % loginUsers.length]),
        }),
      },
    ];
    if (wanted('login')) {
      rows.push(
        row(
          'login',
          await load(service.base, seeded.token, loginRequest, { pid, connections: 16 }),
        ),
      );
    }
    if (readAlone && wanted('login_interference')) {
      const [during] = await Promise.all([
        load(service.base, seeded.token, readAccount(seeded.accounts)),
        load(service.base, seeded.token, loginRequest, { connections: 16 }),
      ]);
      const interference = row('read_account during login flood', during);
      rows.push({
        ...interference,
        reference: 'read_account p99 alone',
        ratio: interference.p99 / Math.max(readAlone.p99, 1),
        target: 3,
      });
    }

    const problems = await ledgerProblems(APP_DB);
    const memory = rssMb(service.child.pid!);
    await stopService(service);
    service = undefined;

    let pooler: { problems: number } | undefined;
    if (POOLER && ['read_account', 'list_operations', 'deposit', 'transfer'].some(wanted)) {
      // The same scenarios on a fresh database, the service reaching it through PgBouncer
      // in transaction mode (scripts/pgbouncer), as DATABASE_POOLER=transaction documents.
      const folder = execFileSync(
        join(ROOT, 'scripts', 'pgbouncer'),
        ['start', String(await freePort())],
        {
          encoding: 'utf8',
        },
      ).trim();
      try {
        const port = /listen_port = (\d+)/.exec(
          readFileSync(join(folder, 'pgbouncer.ini'), 'utf8'),
        )![1];
        await admin(`CREATE DATABASE ${POOLER_DB}`);
        const url = new URL(urlFor(POOLER_DB));
        url.port = port;
        service = await startService({ url: url.toString() }, { DATABASE_POOLER: 'transaction' });
        const fresh = await seedSmall(service);
        await throughput(service, fresh, ' (PgBouncer)', rows, PGBENCH_DB);
        pooler = { problems: await ledgerProblems(POOLER_DB) };
        await stopService(service);
        service = undefined;
      } finally {
        execFileSync(join(ROOT, 'scripts', 'pgbouncer'), ['stop', folder]);
      }
    }

    let workers: { problems: number; memory: Memory } | undefined;
    if (WORKERS > 1 && ['read_account', 'list_operations', 'deposit', 'transfer'].some(wanted)) {
      // A fresh database seeded the same way, served by WORKERS processes (WEB_CONCURRENCY).
      await admin(`CREATE DATABASE ${WORKERS_DB}`);
      service = await startService(
        { url: urlFor(WORKERS_DB) },
        { WEB_CONCURRENCY: String(WORKERS) },
      );
      const fresh = await seedSmall(service);
      await throughput(service, fresh, ` (${WORKERS} workers)`, rows, PGBENCH_DB);
      workers = { problems: await ledgerProblems(WORKERS_DB), memory: rssMb(service.child.pid!) };
      await stopService(service);
      service = undefined;
    }

    let embedded: { conserved: boolean; memory: Memory } | undefined;
    if (wanted('embedded_deposit')) {
      const dataDir = mkdtempSync(join(tmpdir(), 'bank-bench-'));
      try {
        service = await startService({ dataDir });
        const seededEmbedded = await seedSmall(service);
        const result = await load(
          service.base,
          seededEmbedded.token,
          deposit(seededEmbedded.accounts),
          {
            pid: service.child.pid,
          },
        );
        rows.push({
          ...row('deposit (embedded database)', result),
          reference: 'none (absolute)',
          targetText: '>= 300 req/s',
        });
        embedded = {
          conserved:
            (await apiLedgerProblems(service, seededEmbedded.token, seededEmbedded.accounts)) === 0,
          memory: rssMb(service.child.pid!),
        };
      } finally {
        await stopService(service);
        service = undefined;
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    print(rows, problems, memory, workers, embedded);
    if (pooler) {
      console.log(
        `PgBouncer: ledger checked again, ${pooler.problems === 0 ? 'every balance equals the sum of its operations' : `${pooler.problems} accounts MISMATCH`}`,
      );
    }
    const file = writeResults('bench', {
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      rows,
      ledgerMismatches: problems,
      serviceRssMb: memory,
      workers,
      embedded,
      pooler,
    });
    console.log(`\nwritten ${file}`);
    if (
      problems > 0 ||
      (workers?.problems ?? 0) > 0 ||
      (pooler?.problems ?? 0) > 0 ||
      embedded?.conserved === false
    ) {
      process.exitCode = 1;
    }
  } finally {
    await stopService(service);
    await admin(`DROP DATABASE IF EXISTS ${APP_DB} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${WORKERS_DB} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${POOLER_DB} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${PGBENCH_DB} WITH (FORCE)`);
  }
}

function print(
  rows: Row[],
  problems: number,
  memory: Memory,
  workers?: { problems: number; memory: Memory },
  embedded?: { conserved: boolean; memory: Memory },
): void {
  console.log(`\n${throughputTable(rows)}`);
  const ledger = (n: number) =>
    n === 0 ? 'every balance equals the sum of its operations' : `${n} accounts MISMATCH`;
  console.log(`\nledger: ${ledger(problems)}`);
  console.log(`service memory: ${memory.rss} MB RSS at the end, ${memory.peak} MB peak`);
  if (workers) {
    console.log(
      `${WORKERS} workers: ledger checked again, ${ledger(workers.problems)}; ` +
        `${workers.memory.rss} MB RSS at the end for the primary and its workers together`,
    );
  }
  if (embedded) {
    console.log(
      `embedded database: ${embedded.conserved ? 'every balance equals the sum of its operations' : 'ledger MISMATCH'}; ` +
        `${embedded.memory.rss} MB RSS at the end, ${embedded.memory.peak} MB peak (the database runs inside the process)`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
