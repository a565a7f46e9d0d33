/**
 * npm run bench:scale: whether a request costs the same on a ledger of ten
 * thousand operations and on one of ten million.
 *
 * For each size (small, large, then skewed: the large ledger with the big
 * account holding a third of it, all older than the rest), it makes a fresh database on the
 * PostgreSQL server, lets the built service migrate it, generates the ledger
 * in SQL (bench/scale/seed.ts) and checks every money rule, then starts the
 * service in production mode and measures:
 * - the throughput scenarios of `npm run bench` (no pgbench here);
 * - pages of the account with 1,000,000 (small: 1,000; skewed: a third) operations, page 1 and
 *   a cursor page half way down, next to the page of a 1- and a 20-operation account;
 * - the staff-wide operation list (plain, by kind, one month), the client search
 *   and the accounts of a client holding 50;
 * - a one-month statement (a month of its history) and the whole-history CSV and JSON statement of the
 *   big account: first byte, total time, rows/s, peak service RSS, the worst
 *   event-loop delay in the service, and /health's latency meanwhile.
 * It prints the large/small and skewed/small ratios next to the targets,
 * and writes them as JSON under bench/results/.
 *
 * Settings: BENCH_DURATION (s per measure, 10), BENCH_CONNECTIONS (32),
 * BENCH_LIST_CONNECTIONS (4, for the lists held to a p99 latency),
 * BENCH_SCALE_SIZES (small,large,skewed), BENCH_SKEWED_OPERATIONS (the
 * skewed ledger's size, 10,000,000), BENCH_KEEP (keep the databases),
 * BENCH_ADMIN_URL.
 */
import { Request as AcRequest } from 'autocannon';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cursors, encodeCursor } from '../src/common/pagination';
import { cursorKey } from '../src/config/app-config';
import { api, login, tellerToken } from './lib/api';
import { ledgerProblems } from './lib/ledger';
import { deposit, failures, get, load, readAccount, transfer } from './lib/load';
import { table, writeResults } from './lib/report';
import { ADMIN_PASSWORD, rssMb, Service, startService, stopService } from './lib/service';
import { admin, DURATION, sql, urlFor } from './lib/settings';
import {
  ACCOUNT,
  accountId,
  checkLedger,
  CUSTOMER_CLIENT,
  LARGE,
  LedgerCheck,
  seedLedger,
  Size,
  skewed,
  SMALL,
} from './scale/seed';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? 'small,large,skewed').split(',');
const SKEWED = skewed(Number(process.env.BENCH_SKEWED_OPERATIONS ?? LARGE.operations));
/** Seconds each measure is run before it is measured. */
const WARM_UP = Math.max(1, Math.round(DURATION / 3));
/** Concurrent clients of the list measures, which are held to a p99 latency. */
const LIST_CONNECTIONS = Number(process.env.BENCH_LIST_CONNECTIONS ?? 4);
const KEEP = !!process.env.BENCH_KEEP;
const SUFFIX = randomBytes(3).toString('hex');
const LOOP_FILE = join(tmpdir(), `bank-bench-loop-${SUFFIX}.json`);
/** The service's secret, so that the bench can sign a cursor deep down the big account. */
const JWT_SECRET = randomBytes(48).toString('base64url');

/** One measured figure at one size. */
interface Measure {
  rps?: number;
  p50?: number;
  p99?: number;
  errors?: number;
  /** Statement figures. */
  firstByteMs?: number;
  totalMs?: number;
  rows?: number;
  rowsPerSecond?: number;
  peakRssMb?: number;
  loopDelayMaxMs?: number;
  healthMaxMs?: number;
}

interface SizeResult {
  size: Size;
  seedSeconds: number;
  check: LedgerCheck;
  ledgerAfterWrites: number;
  measures: Record<string, Measure>;
}

async function measureSize(size: Size): Promise<SizeResult> {
  const db = `bank_scale_${size.name}_${SUFFIX}`;
  await admin(`CREATE DATABASE ${db}`);
  let service: Service | undefined;
  try {
    // The service migrates the database and creates the admin; the ledger is then generated beside it.
    await stopService(await startService({ url: urlFor(db) }));
    const [{ id: adminId }] = await sql<{ id: string }>(
      `SELECT id FROM users WHERE username = 'admin'`,
      [],
      db,
    );
    const started = Date.now();
    await seedLedger(urlFor(db), size, adminId);
    const seedSeconds = (Date.now() - started) / 1000;
    const check = await checkLedger(urlFor(db));
    console.log(`${size.name}: seeded in ${seedSeconds.toFixed(0)} s, checked:`, check);

    service = await startService({ url: urlFor(db) }, { BENCH_LOOP_FILE: LOOP_FILE, JWT_SECRET }, [
      '-r',
      join(__dirname, 'lib', 'event-loop-probe.js'),
    ]);
    const teller = await tellerToken(service);
    const adminToken = await login(service, { username: 'admin', password: ADMIN_PASSWORD });
    await api(
      service,
      'POST',
      '/api/v1/users',
      {
        username: 'bench-customer',
        password: 'bench-customer-password',
        role: 'customer',
        clientId: CUSTOMER_CLIENT,
      },
      adminToken,
    );
    const customer = await login(service, {
      username: 'bench-customer',
      password: 'bench-customer-password',
    });
    const measures: Record<string, Measure> = {};
    const pid = service.child.pid;
    const run = async (
      name: string,
      requests: AcRequest[],
      token = teller,
      connections?: number,
    ) => {
      // A short run first, so that caches hold what the scenario reads, as in a service that runs.
      await load(service!.base, token, requests, { connections, duration: WARM_UP });
      const r = await load(service!.base, token, requests, { pid, connections });
      measures[name] = {
        rps: Math.round(r.requests.average),
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: failures(r),
      };
      console.log(
        `${size.name} ${name}: ${measures[name].rps} req/s, p99 ${measures[name].p99} ms`,
      );
    };

    // Random accounts of the whole ledger for reads and writes (not the big one).
    const sample = Array.from({ length: 2000 }, () =>
      accountId(54 + Math.floor(Math.random() * (size.accounts - 54))),
    );
    await run('read_account', readAccount(sample));
    await run('list_operations (20-operation account)', get(operationsOf(ACCOUNT.twenty)));
    await run('deposit', deposit(sample));
    await run('transfer', transfer(sample));

    const [{ seq: middle, created_at: midway }] = await sql<{ seq: string; created_at: Date }>(
      `SELECT seq, created_at FROM operations WHERE account_id = $1
        ORDER BY created_at DESC, seq DESC OFFSET $2 LIMIT 1`,
      [ACCOUNT.big, Math.floor(size.bigAccount / 2)],
      db,
    );
    const cursors = new Cursors({ cursorKey: cursorKey(JWT_SECRET) });
    const deep = encodeCursor(
      cursors.scope('account-operations', ACCOUNT.big, undefined, undefined, undefined, undefined),
      middle,
    );
    await run('page 1 of the big account', get(operationsOf(ACCOUNT.big)));
    await run(
      'cursor page half way down the big account',
      get(`${operationsOf(ACCOUNT.big)}&cursor=${deep}`),
    );
    await run('page of a 1-operation account', get(operationsOf(ACCOUNT.single)));
    await run('page of a 20-operation account', get(operationsOf(ACCOUNT.twenty)));
    // The write scenarios dirtied many pages: written out now, not by a checkpoint in the middle
    // of the latency measures.
    await sql('CHECKPOINT');
    // Lists are held to a latency: measured with a few clients, not a saturating crowd.
    const list = (name: string, path: string, token = teller) =>
      run(name, get(path), token, LIST_CONNECTIONS);
    await list('staff-wide operations', '/api/v1/operations?limit=20');
    await list(
      'staff-wide operations, kind=withdrawal',
      '/api/v1/operations?limit=20&kind=withdrawal',
    );
    const month = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 7);
    // A month from the middle of the big account's history, wherever that lies.
    const bigMonth = midway.toISOString().slice(0, 7);
    await list(
      'staff-wide operations, one month',
      `/api/v1/operations?limit=20&from=${month}-01&to=${month}-28`,
    );
    await list('client search, lastName prefix', '/api/v1/clients?lastName=Mib&limit=20');
    await list('client search, q prefix', '/api/v1/clients?q=kan&limit=20');
    await list('client search, nationalId prefix', '/api/v1/clients?nationalId=NID00001&limit=20');
    await list(
      'accounts by holder (50 accounts)',
      `/api/v1/accounts?holderId=${CUSTOMER_CLIENT}&limit=20`,
    );
    await list("a customer's own accounts (50)", '/api/v1/accounts?limit=20', customer);

    measures['statement, one month (JSON)'] = await statement(
      service,
      teller,
      `/api/v1/accounts/${ACCOUNT.big}/statement?from=${bigMonth}-01&to=${bigMonth}-28`,
    );
    measures['statement, whole history (CSV)'] = await statement(
      service,
      teller,
      `/api/v1/accounts/${ACCOUNT.big}/statement?from=2000-01-01&format=csv`,
    );
    measures['statement, whole history (JSON)'] = await statement(
      service,
      teller,
      `/api/v1/accounts/${ACCOUNT.big}/statement?from=2000-01-01`,
    );
    const ledgerAfterWrites = await ledgerProblems(db);
    return { size, seedSeconds, check, ledgerAfterWrites, measures };
  } finally {
    await stopService(service);
    if (!KEEP) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
}

const operationsOf = (id: string) => `/api/v1/accounts/${id}/operations?limit=20`;

/**
 * Downloads a statement, reading as fast as it comes, while /health is asked
 * every 50 ms and the service's RSS is read every 100 ms.
 */
async function statement(service: Service, token: string, path: string): Promise<Measure> {
  const pid = service.child.pid!;
  const started = Date.now();
  let peakRssMb = rssMb(pid).rss;
  let healthMaxMs = 0;
  let done = false;
  const watch = (async () => {
    while (!done) {
      const t0 = performance.now();
      await fetch(`${service.base}/health`);
      healthMaxMs = Math.max(healthMaxMs, performance.now() - t0);
      peakRssMb = Math.max(peakRssMb, rssMb(pid).rss);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const csv = path.includes('format=csv');
  const t0 = performance.now();
  const res = await fetch(`${service.base}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const decoder = new TextDecoder();
  let firstByteMs: number | undefined;
  let rows = 0;
  let bytes = 0;
  let tail = '';
  const mark = csv ? '\r\n' : '"performedBy":';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    firstByteMs ??= performance.now() - t0;
    bytes += chunk.length;
    // A CSV line ends with \r\n; an operation in JSON, and only an operation, has "performedBy".
    // The last characters, too few to hold a whole mark, are read again with the next chunk,
    // where a mark cut in two is whole.
    const text = tail + decoder.decode(chunk, { stream: true });
    rows += text.split(mark).length - 1;
    tail = text.slice(-(mark.length - 1));
  }
  if (csv) rows -= 1; // the header line
  const totalMs = performance.now() - t0;
  done = true;
  await watch;
  await new Promise((r) => setTimeout(r, 200)); // the probe's last window
  const loopDelayMaxMs = Math.max(
    0,
    ...readFileSync(LOOP_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { at: number; maxMs: number })
      .filter((w) => w.at >= started && w.at <= Date.now())
      .map((w) => w.maxMs),
  );
  const measure: Measure = {
    firstByteMs: Math.round(firstByteMs ?? totalMs),
    totalMs: Math.round(totalMs),
    rows,
    rowsPerSecond: Math.round(rows / (totalMs / 1000)),
    peakRssMb,
    loopDelayMaxMs,
    healthMaxMs: Math.round(healthMaxMs),
  };
  console.log(`${path}: ${res.status}, ${bytes} bytes`, measure);
  return measure;
}

interface Target {
  name: string;
  /** The measures compared: large against small, or large against another large measure. */
  check: (
    small: Record<string, Measure>,
    large: Record<string, Measure>,
  ) => {
    value: string;
    met: boolean;
  };
  target: string;
}

const throughputTarget = (name: string): Target => ({
  name: `${name}: large/small req/s, p99`,
  target: '>= 0.8, <= 1.5x',
  check: (s, l) => {
    const ratio = l[name].rps! / s[name].rps!;
    const p99 = l[name].p99! / Math.max(s[name].p99!, 1);
    return { value: `${ratio.toFixed(2)}, ${p99.toFixed(2)}x`, met: ratio >= 0.8 && p99 <= 1.5 };
  },
});

const pageTarget = (name: string): Target => ({
  name: `${name}: mean latency / 20-operation page`,
  target: '<= 1.5',
  check: (_, l) => {
    const ratio = l['page of a 20-operation account'].rps! / l[name].rps!;
    return { value: ratio.toFixed(2), met: ratio <= 1.5 };
  },
});

const listTarget = (name: string): Target => ({
  name: `${name}: p99 at the large size`,
  target: '< 50 ms',
  check: (_, l) => ({ value: `${l[name].p99} ms`, met: l[name].p99! < 50 }),
});

const exportTarget = (name: string): Target => ({
  name: `${name}: first byte, rows/s, RSS, loop delay, /health`,
  target: '<= 1 s, >= 100k, < 300 MB, <= 50 ms, <= 100 ms',
  check: (_, l) => {
    const m = l[name];
    return {
      value: `${m.firstByteMs} ms, ${m.rowsPerSecond}, ${m.peakRssMb} MB, ${m.loopDelayMaxMs} ms, ${m.healthMaxMs} ms`,
      met:
        m.firstByteMs! <= 1000 &&
        m.rowsPerSecond! >= 100_000 &&
        m.peakRssMb! < 300 &&
        m.loopDelayMaxMs! <= 50 &&
        m.healthMaxMs! <= 100,
    };
  },
});

const TARGETS: Target[] = [
  ...['read_account', 'list_operations (20-operation account)', 'deposit', 'transfer'].map(
    throughputTarget,
  ),
  ...[
    'page 1 of the big account',
    'cursor page half way down the big account',
    'page of a 1-operation account',
  ].map(pageTarget),
  ...[
    'staff-wide operations',
    'staff-wide operations, kind=withdrawal',
    'staff-wide operations, one month',
    'client search, lastName prefix',
    'client search, q prefix',
    'client search, nationalId prefix',
    'accounts by holder (50 accounts)',
    "a customer's own accounts (50)",
  ].map(listTarget),
  ...['statement, whole history (CSV)', 'statement, whole history (JSON)'].map(exportTarget),
];

function print(results: SizeResult[]): void {
  const small = results.find((r) => r.size.name === SMALL.name);
  for (const r of results) {
    console.log(
      `\n${r.size.name}: ${r.check.operations} operations, ${r.check.accounts} accounts, ${r.check.clients} clients, seeded in ${r.seedSeconds.toFixed(0)} s`,
    );
    console.log(
      `money rules after seeding: ${r.check.balanceMismatches} balance mismatches, ${r.check.brokenChain} chain breaks, ${r.check.belowLimit} below limit, ${r.check.orphans} orphans; after the writes: ${r.ledgerAfterWrites} mismatches`,
    );
    const names = Object.keys(r.measures);
    console.log(
      table(
        [
          'measure',
          'req/s',
          'p50 ms',
          'p99 ms',
          'errors',
          'first byte ms',
          'total ms',
          'rows/s',
          'peak RSS MB',
          'loop max ms',
          '/health max ms',
        ],
        names.map((n) => {
          const m = r.measures[n];
          const v = (x?: number) => (x === undefined ? '' : String(x));
          return [
            n,
            v(m.rps),
            v(m.p50),
            v(m.p99),
            v(m.errors),
            v(m.firstByteMs),
            v(m.totalMs),
            v(m.rowsPerSecond),
            v(m.peakRssMb),
            v(m.loopDelayMaxMs),
            v(m.healthMaxMs),
          ];
        }),
      ),
    );
  }
  if (!small) return;
  // The large ledger, and the skewed one, each against the small.
  for (const large of results.filter((r) => r !== small)) {
    console.log(`\ntargets: ${large.size.name}`);
    console.log(
      table(
        ['target', 'measured', 'wanted', 'met'],
        TARGETS.map((t) => {
          const { value, met } = t.check(small.measures, large.measures);
          return [t.name, value, t.target, met ? 'yes' : 'NO'];
        }),
      ),
    );
  }
}

async function main(): Promise<void> {
  const results: SizeResult[] = [];
  try {
    for (const size of [SMALL, LARGE, SKEWED].filter((s) => SIZES.includes(s.name))) {
      results.push(await measureSize(size));
    }
  } finally {
    rmSync(LOOP_FILE, { force: true });
  }
  print(results);
  console.log(`\nwritten ${writeResults('scale', { durationSeconds: DURATION, results })}`);
  const broken = results.some(
    (r) =>
      r.check.balanceMismatches + r.check.brokenChain + r.check.belowLimit + r.check.orphans > 0 ||
      r.ledgerAfterWrites > 0,
  );
  if (broken) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
