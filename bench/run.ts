/**
 * npm run bench: the service against PostgreSQL's own pgbench on this machine.
 *
 * Starts the built service (production mode, logs at warn) on a fresh database
 * of the PostgreSQL server, seeds it through the API, then alternates each
 * scenario with its pgbench reference so drift hits both, checks the ledger
 * after the write scenarios, and prints a table (also written as JSON under
 * bench/results/). The service runs as `npm run start:prod` would run it. The
 * throughput scenarios are then run again with BENCH_WORKERS processes
 * (WEB_CONCURRENCY), and a deposit run on the embedded database closes.
 *
 * Settings: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (32), BENCH_WORKERS (2;
 * 1 skips that part), BENCH_SCENARIOS (a comma-separated subset of read_account,
 * list_operations, deposit, transfer, login, login_interference,
 * embedded_deposit), BENCH_NODE_ARGS (extra node flags for the service, such as
 * --cpu-prof), BENCH_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres).
 */
import autocannon, { Request as AcRequest, Result } from 'autocannon';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Also run the throughput scenarios with this many worker processes (WEB_CONCURRENCY); 1: not. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** A comma-separated subset of the scenarios to run (all by default). */
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? '').split(',').filter(Boolean);
const wanted = (scenario: string) => SCENARIOS.length === 0 || SCENARIOS.includes(scenario);
/** Extra arguments for the service's node process, e.g. --cpu-prof for a profile. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const ROOT = join(__dirname, '..');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const SUFFIX = randomBytes(3).toString('hex');
const APP_DB = `bank_bench_${SUFFIX}`;
const WORKERS_DB = `bank_bench_workers_${SUFFIX}`;
const PGBENCH_DB = `bank_pgbench_${SUFFIX}`;
const ADMIN_PASSWORD = randomBytes(18).toString('base64url');
const TELLER = { username: 'bench-teller', password: 'bench-teller-password' };

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  reference?: string;
  referenceTps?: number;
  ratio?: number;
  target?: number;
  /** The service's CPU time per request (its share of the load; both loads during the flood). */
  cpuMsPerRequest?: number;
  /** Shown instead of the target when it is not a ratio. */
  targetText?: string;
}

const urlFor = (db: string) => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  return url.toString();
};

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The production command line, from `npm run start:prod` (VAR=value ... node
 * [flags] dist/main.js): the bench runs the service exactly as deployed.
 */
function productionCommand(): { env: Record<string, string>; nodeArgs: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts['start:prod'].split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name] = value.join('=');
  }
  if (words.shift() !== 'node' || words.pop() !== 'dist/main.js') {
    throw new Error('start:prod is not "[VAR=value...] node [flags] dist/main.js"');
  }
  return { env, nodeArgs: words };
}

/** The built service in production mode, on the server database or (dataDir) the embedded one. */
function startService(
  port: number,
  database: { url: string } | { dataDir: string },
  extraEnv: Record<string, string> = {},
): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  const production = productionCommand();
  const child = spawn(process.execPath, [...production.nodeArgs, ...NODE_ARGS, 'dist/main.js'], {
    cwd: ROOT,
    env: {
      ...env,
      ...production.env,
      ...extraEnv,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...('url' in database ? { DATABASE_URL: database.url } : { DATA_DIR: database.dataDir }),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      DOCS_ENABLED: 'false',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the service did not become healthy');
}

async function api<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

async function seed(base: string): Promise<{ token: string; accounts: string[]; hot: string }> {
  const adminToken = (
    await api<{ accessToken: string }>(base, 'POST', '/api/v1/auth/login', {
      username: 'admin',
      password: ADMIN_PASSWORD,
    })
  ).accessToken;
  await api(base, 'POST', '/api/v1/users', { ...TELLER, role: 'teller' }, adminToken);
  const token = (await api<{ accessToken: string }>(base, 'POST', '/api/v1/auth/login', TELLER))
    .accessToken;
  const clients: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await api<{ id: string }>(
      base,
      'POST',
      '/api/v1/clients',
      { nationalId: `BENCH-${i}`, firstName: `Bench${i}`, lastName: 'Client' },
      token,
    );
    clients.push(c.id);
  }
  const accounts: string[] = [];
  for (let i = 0; i < 100; i++) {
    const a = await api<{ id: string }>(
      base,
      'POST',
      '/api/v1/accounts',
      { holderIds: [clients[i % 3]] },
      token,
    );
    await api(base, 'POST', `/api/v1/accounts/${a.id}/deposits`, { amount: '1000.00' }, token);
    accounts.push(a.id);
  }
  const hot = accounts[0];
  for (let i = 0; i < 20; i++) {
    await api(
      base,
      'POST',
      `/api/v1/accounts/${hot}/deposits`,
      { amount: '1.00', description: `op ${i}` },
      token,
    );
  }
  return { token, accounts, hot };
}

function pgbench(args: string[]): number {
  const out = execFileSync(
    'pgbench',
    [
      ...args,
      '-c',
      String(CONNECTIONS),
      '-j',
      '2',
      '-T',
      String(DURATION),
      '-n',
      urlFor(PGBENCH_DB),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const match =
    /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(
      out,
    );
  if (!match) throw new Error(`pgbench output not understood:\n${out}`);
  return Number(match[1]);
}

/** The service process being measured, for its CPU time. */
let servicePid: number | undefined;

/** The process and its descendants (the workers of WEB_CONCURRENCY). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    // exited
  }
  return [pid, ...children.flatMap(processTree)];
}

/** User + system CPU time of the service's processes so far, in ms (from /proc, 10 ms ticks). */
function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1000) / 100;
}

type Load = Result & { cpuMsPerRequest?: number };

async function load(
  base: string,
  token: string,
  requests: AcRequest[],
  connections = CONNECTIONS,
): Promise<Load> {
  const cpuBefore = servicePid ? cpuMs(servicePid) : undefined;
  const result: Load = await autocannon({
    url: base,
    connections,
    duration: DURATION,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests,
  });
  if (servicePid && cpuBefore !== undefined && result.requests.total > 0) {
    result.cpuMsPerRequest = (cpuMs(servicePid) - cpuBefore) / result.requests.total;
  }
  return result;
}

const row = (scenario: string, r: Load): Row => ({
  scenario,
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts + r.non2xx,
  cpuMsPerRequest: r.cpuMsPerRequest,
});

/** 1.00 to a random account. */
const deposit = (accounts: string[]): AcRequest[] => [
  {
    method: 'POST',
    body: JSON.stringify({ amount: '1.00' }),
    setupRequest: (req) => ({ ...req, path: `/api/v1/accounts/${pick(accounts)}/deposits` }),
  },
];

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

const cents = (money: string) => BigInt(money.replace('.', ''));

/** The ledger check through the API: accounts whose balance is not the sum of their operations. */
async function apiLedgerProblems(base: string, token: string, accounts: string[]): Promise<number> {
  let problems = 0;
  for (const id of accounts) {
    const account = await api<{ balance: string }>(
      base,
      'GET',
      `/api/v1/accounts/${id}`,
      undefined,
      token,
    );
    let sum = 0n;
    for (let page = 1; ; page++) {
      const ops = await api<{ items: Array<{ type: string; amount: string }>; total: number }>(
        base,
        'GET',
        `/api/v1/accounts/${id}/operations?limit=100&page=${page}`,
        undefined,
        token,
      );
      for (const op of ops.items)
        sum += op.type === 'credit' ? cents(op.amount) : -cents(op.amount);
      if (page * 100 >= ops.total) break;
    }
    if (sum !== cents(account.balance)) problems++;
  }
  return problems;
}

async function ledgerProblems(database = APP_DB): Promise<number> {
  const client = new Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM accounts a
        WHERE a.balance <> coalesce((SELECT sum(CASE WHEN o.type = 'credit' THEN o.amount ELSE -o.amount END)
                                       FROM operations o WHERE o.account_id = a.id), 0)`,
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/** RSS now and at its peak, summed over the service's processes (each peak is its own). */
function rssMb(pid: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const p of processTree(pid)) {
    const status = readFileSync(`/proc/${p}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    rss += kb('VmRSS');
    peak += kb('VmHWM');
  }
  return { rss: Math.round(rss / 1024), peak: Math.round(peak / 1024) };
}

/** GET /accounts/:id on random accounts. */
const readRequests = (accounts: string[]): AcRequest[] => [
  {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/api/v1/accounts/${pick(accounts)}` }),
  },
];

/**
 * The four throughput scenarios, each right after its pgbench reference;
 * answers the read_account row (the login flood compares with it).
 */
async function throughput(
  base: string,
  token: string,
  accounts: string[],
  hot: string,
  label: string,
  rows: Row[],
): Promise<Row | undefined> {
  const compare = (r: Row, reference: string, tps: number, target: number) =>
    rows.push({ ...r, reference, referenceTps: Math.round(tps), ratio: r.rps / tps, target });

  const readAccount = readRequests(accounts);
  let readAlone: Row | undefined;
  if (wanted('read_account') || (!label && wanted('login_interference'))) {
    const tps = pgbench(['-S']);
    readAlone = row(`read_account${label}`, await load(base, token, readAccount));
    compare(readAlone, 'select-only', tps, 0.4);
  }

  if (wanted('list_operations')) {
    const tps = pgbench(['-S']);
    compare(
      row(
        `list_operations${label}`,
        await load(base, token, [
          { method: 'GET', path: `/api/v1/accounts/${hot}/operations?limit=20` },
        ]),
      ),
      'select-only',
      tps,
      0.25,
    );
  }

  if (wanted('deposit')) {
    const tps = pgbench(['-N']);
    compare(
      row(`deposit${label}`, await load(base, token, deposit(accounts))),
      'simple-update',
      tps,
      0.6,
    );
  }

  if (wanted('transfer')) {
    const tps = pgbench([]);
    compare(
      row(
        `transfer${label}`,
        await load(base, token, [
          {
            method: 'POST',
            path: '/api/v1/transfers',
            setupRequest: (req) => {
              const from = pick(accounts);
              let to = pick(accounts);
              while (to === from) to = pick(accounts);
              return {
                ...req,
                body: JSON.stringify({ fromAccountId: from, toAccountId: to, amount: '1.00' }),
              };
            },
          },
        ]),
      ),
      'tpcb-like',
      tps,
      0.6,
    );
  }

  return readAlone;
}

async function main(): Promise<void> {
  await admin(`CREATE DATABASE ${APP_DB}`);
  await admin(`CREATE DATABASE ${PGBENCH_DB}`);
  let service: ChildProcess | undefined;
  try {
    execFileSync('pgbench', ['-i', '-s', '10', '-q', urlFor(PGBENCH_DB)], { stdio: 'ignore' });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    service = startService(port, { url: urlFor(APP_DB) });
    servicePid = service.pid;
    await waitHealthy(base);
    const { token, accounts, hot } = await seed(base);
    console.log(
      `seeded: 3 clients, ${accounts.length} accounts, 20 operations on one; ${DURATION} s per run, ${CONNECTIONS} connections`,
    );

    const rows: Row[] = [];
    const readAlone = await throughput(base, token, accounts, hot, '', rows);
    const readAccount = readRequests(accounts);

    const loginRequest: AcRequest[] = [
      { method: 'POST', path: '/api/v1/auth/login', body: JSON.stringify(TELLER) },
    ];
    if (wanted('login')) rows.push(row('login', await load(base, token, loginRequest)));

    if (readAlone && wanted('login_interference')) {
      const [during] = await Promise.all([
        load(base, token, readAccount),
        load(base, token, loginRequest, 16),
      ]);
      const interference = row('read_account during login flood', during);
      rows.push({
        ...interference,
        cpuMsPerRequest: undefined, // shared with the login flood
        reference: 'read_account p99 alone',
        ratio: interference.p99 / Math.max(readAlone.p99, 1),
        target: 3,
      });
    }

    const problems = await ledgerProblems();
    const memory = rssMb(service.pid!);
    service.kill('SIGTERM');
    await new Promise((r) => service!.once('exit', r));
    service = undefined;

    let workers: { problems: number; memory: { rss: number; peak: number } } | undefined;
    if (WORKERS > 1 && ['read_account', 'list_operations', 'deposit', 'transfer'].some(wanted)) {
      // A fresh database seeded the same way, served by WORKERS processes (WEB_CONCURRENCY).
      await admin(`CREATE DATABASE ${WORKERS_DB}`);
      const workersPort = await freePort();
      const workersBase = `http://127.0.0.1:${workersPort}`;
      service = startService(
        workersPort,
        { url: urlFor(WORKERS_DB) },
        { WEB_CONCURRENCY: String(WORKERS) },
      );
      servicePid = service.pid;
      await waitHealthy(workersBase);
      const fresh = await seed(workersBase);
      await throughput(
        workersBase,
        fresh.token,
        fresh.accounts,
        fresh.hot,
        ` (${WORKERS} workers)`,
        rows,
      );
      workers = { problems: await ledgerProblems(WORKERS_DB), memory: rssMb(service.pid!) };
      service.kill('SIGTERM');
      await new Promise((r) => service!.once('exit', r));
      service = undefined;
    }

    let embedded: { conserved: boolean; memory: { rss: number; peak: number } } | undefined;
    if (wanted('embedded_deposit')) {
      const dataDir = mkdtempSync(join(tmpdir(), 'bank-bench-'));
      try {
        const embeddedPort = await freePort();
        const embeddedBase = `http://127.0.0.1:${embeddedPort}`;
        service = startService(embeddedPort, { dataDir });
        servicePid = service.pid;
        await waitHealthy(embeddedBase);
        const seeded = await seed(embeddedBase);
        const result = await load(embeddedBase, seeded.token, deposit(seeded.accounts));
        rows.push({
          ...row('deposit (embedded database)', result),
          reference: 'none (absolute)',
          targetText: '>= 300 req/s',
        });
        embedded = {
          conserved: (await apiLedgerProblems(embeddedBase, seeded.token, seeded.accounts)) === 0,
          memory: rssMb(service.pid!),
        };
      } finally {
        service?.kill('SIGTERM');
        if (service) await new Promise((r) => service!.once('exit', r));
        service = undefined;
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    print(rows, problems, memory, workers, embedded);
    const file = join(ROOT, 'bench', 'results', `${STAMP}.json`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: {
            cpus: cpus().length,
            cpu: cpus()[0]?.model,
            memoryGb: Math.round(totalmem() / 2 ** 30),
            node: process.version,
          },
          durationSeconds: DURATION,
          connections: CONNECTIONS,
          rows,
          ledgerMismatches: problems,
          serviceRssMb: memory,
          workers,
          embedded,
        },
        null,
        2,
      ),
    );
    console.log(`\nwritten ${file}`);
    if (problems > 0 || (workers?.problems ?? 0) > 0 || embedded?.conserved === false) {
      process.exitCode = 1;
    }
  } finally {
    service?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await admin(`DROP DATABASE IF EXISTS ${APP_DB} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${WORKERS_DB} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${PGBENCH_DB} WITH (FORCE)`);
  }
}

function print(
  rows: Row[],
  problems: number,
  memory: { rss: number; peak: number },
  workers?: { problems: number; memory: { rss: number; peak: number } },
  embedded?: { conserved: boolean; memory: { rss: number; peak: number } },
): void {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'cpu ms/req',
    'reference',
    'ref tps',
    'ratio',
    'target',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.rps),
    String(r.p50),
    String(r.p99),
    String(r.errors),
    r.cpuMsPerRequest !== undefined ? r.cpuMsPerRequest.toFixed(2) : '',
    r.reference ?? '',
    r.referenceTps !== undefined ? String(r.referenceTps) : '',
    r.ratio !== undefined ? r.ratio.toFixed(2) : '',
    r.targetText ??
      (r.target !== undefined
        ? r.scenario.includes('during')
          ? `<= ${r.target}`
          : `>= ${r.target}`
        : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${fmt(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
  console.log(
    `\nledger: ${problems === 0 ? 'every balance equals the sum of its operations' : `${problems} accounts MISMATCH`}`,
  );
  console.log(`service memory: ${memory.rss} MB RSS at the end, ${memory.peak} MB peak`);
  if (workers) {
    console.log(
      `${WORKERS} workers: ledger ${workers.problems === 0 ? 'checked again, every balance equals the sum of its operations' : `${workers.problems} accounts MISMATCH`}; ` +
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
