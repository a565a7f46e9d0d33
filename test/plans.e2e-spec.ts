/**
 * Plans that do not depend on luck: on skewed ledgers (one account holds
 * half of 200,000 operations, its history beside the others'; or a third of
 * 150,000, all of it older than the rest, on disk in time order), every
 * statement the API runs to read operations (lists, totals, statements,
 * movements) reads only the rows it needs through an index, with the plans
 * made for its values (the first five runs of a prepared statement, every
 * run of an unnamed one) and with the generic plan a prepared statement may
 * switch to. A statement that walked an account's whole history, or the
 * whole table, to find a page would read far more than the 10,000 rows a
 * capped count may; an account's page of 20 reads 21 operations.
 *
 * PostgreSQL server only: it needs a second connection for EXPLAIN.
 */
import { Client, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { ACCOUNT, seedLedger, Size } from '../bench/scale/seed';
import { TestApp, bearer } from './helpers/app';
import { banking } from './helpers/banking';
import { withTeller } from './helpers/fixture';
import { directUrl, onServer } from './helpers/databases';

interface Captured {
  text: string;
  values: unknown[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Filter?: string;
  Plans?: PlanNode[];
}

/** Rows the plan read from `operations`, over all its loops. */
function operationRowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] === 'operations'
      ? (node['Actual Rows'] +
          (node['Rows Removed by Filter'] ?? 0) +
          (node['Rows Removed by Index Recheck'] ?? 0)) *
        node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + operationRowsRead(child), 0);
}

/**
 * Scans of `operations` that read rows only to drop them for their account:
 * an account's rows found by walking other accounts' instead of its own index.
 */
function accountFiltered(node: PlanNode): string[] {
  const own =
    node['Relation Name'] === 'operations' &&
    /\baccount_id\b/.test(node.Filter ?? '') &&
    (node['Rows Removed by Filter'] ?? 0) > 0
      ? [
          `${node['Node Type']} using ${node['Index Name'] ?? '(no index)'}: ${node['Rows Removed by Filter']} rows of other accounts read`,
        ]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap(accountFiltered)];
}

/** The scans of the plan; of a plan that ran, those that ran. */
function scans(node: PlanNode, ran: boolean): string[] {
  if (ran && node['Actual Loops'] === 0) return [];
  const own = node['Relation Name']
    ? [
        `${node['Node Type']} on ${node['Relation Name']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`,
      ]
    : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => scans(child, ran))];
}

const SHAPES: Array<{ shape: string; size: Size }> = [
  {
    shape: 'one account holds half, its history beside the others',
    size: {
      name: 'plans',
      clients: 2_000,
      accounts: 2_500,
      operations: 200_000,
      bigAccount: 100_000,
    },
  },
  {
    shape: 'one account holds a third, all older than the rest',
    size: {
      name: 'plans-older',
      clients: 1_500,
      accounts: 1_900,
      operations: 150_000,
      bigAccount: 50_000,
      bigAccountOlder: true,
    },
  },
];

/** The plans PostgreSQL may run a statement with: made for its values, and generic. */
const PLAN_MODES = ['force_custom_plan', 'force_generic_plan'];

/**
 * Runs each statement under each plan mode with EXPLAIN ANALYZE, rolled back, on a connection
 * of its own, and gives `judge` its plan; answers how many it ran.
 */
async function explainEach(
  url: string,
  statements: Iterable<Captured>,
  judge: (found: { text: string; mode: string; plan: PlanNode; ran: boolean }) => void,
): Promise<number> {
  const explain = new Client({ connectionString: url });
  await explain.connect();
  let n = 0;
  try {
    for (const mode of PLAN_MODES) {
      await explain.query(`SET plan_cache_mode = ${mode}`);
      for (const { text, values } of statements) {
        n++;
        const literals = values.map((v) =>
          v === null
            ? 'NULL'
            : explain.escapeLiteral(
                v instanceof Date
                  ? v.toISOString()
                  : Array.isArray(v)
                    ? `{${v.map(String).join(',')}}`
                    : String(v as string | number | bigint),
              ),
        );
        await explain.query('BEGIN');
        try {
          await explain.query(`PREPARE plan_${n} AS ${text}`);
          const execute = `EXECUTE plan_${n}(${literals.join(',')})`;
          await explain.query('SAVEPOINT run');
          let plan: PlanNode;
          let ran = true;
          try {
            plan = (await explain.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${execute}`)).rows[0][
              'QUERY PLAN'
            ][0].Plan as PlanNode;
          } catch {
            // A movement that cannot run twice (a reversal is unique): its plan is read, not run.
            await explain.query('ROLLBACK TO SAVEPOINT run');
            ran = false;
            plan = (await explain.query(`EXPLAIN (FORMAT JSON) ${execute}`)).rows[0][
              'QUERY PLAN'
            ][0].Plan as PlanNode;
          }
          judge({ text, mode, plan, ran });
        } finally {
          await explain.query('ROLLBACK');
        }
      }
    }
  } finally {
    await explain.end();
  }
  return n;
}

/** The first day of the month `months` after the one of `at`, as YYYY-MM-DD. */
const monthAfter = (at: Date, months: number) =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1)).toISOString().slice(0, 10);

(onServer ? describe.each(SHAPES) : describe.skip.each(SHAPES))(
  'statement plans on a skewed ledger: $shape',
  ({ size }) => {
    let t: TestApp;
    let teller: string;
    /** A quarter inside the big account's history, and one inside the others'. */
    let ranges: string[];
    /** A month inside the big account's history. */
    let month: string;
    const captured = new Map<string, Captured>();
    const original = Client.prototype.query;

    beforeAll(async () => {
      ({ t, teller } = await withTeller());
      const db = t.app.get(DataSource);
      const [{ id }] = await db.query<Array<{ id: string }>>(
        `SELECT id FROM users WHERE username = 'admin'`,
      );
      await seedLedger(directUrl(t.database!), size, id);
      const [span] = await db.query<Array<{ big: Date; others: Date }>>(
        `SELECT (SELECT min(created_at) FROM operations WHERE account_id = $1) AS big,
              (SELECT max(created_at) FROM operations WHERE account_id <> $1) AS others`,
        [ACCOUNT.big],
      );
      const big = monthAfter(span.big, 6);
      const others = monthAfter(span.others, -4);
      ranges = [
        `from=${big}&to=${monthAfter(new Date(big), 3)}`,
        `from=${others}&to=${monthAfter(new Date(others), 3)}`,
      ];
      month = `from=${big}&to=${monthAfter(new Date(big), 1)}`;
      // Every statement the application sends from here on, with its values.
      (Client.prototype as { query: unknown }).query = function (
        this: Client,
        config: string | QueryConfig,
        values?: unknown,
        ...rest: unknown[]
      ) {
        const text = typeof config === 'string' ? config : config.text;
        const given = typeof config === 'string' ? values : (config.values ?? values);
        if (
          /\boperations\b/.test(text) &&
          Array.isArray(given) &&
          !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(text)
        ) {
          // Each run with its own values: a plan made for the values is judged on them.
          captured.set(`${text}\n${JSON.stringify(given)}`, { text, values: given });
        }
        return (original as (...args: unknown[]) => unknown).call(this, config, values, ...rest);
      };
    }, 120_000);

    afterAll(async () => {
      Client.prototype.query = original;
      await t.close();
    });

    it('reads no more operations than a page, a capped count or a statement batch needs', async () => {
      const get = (path: string) => t.http.get(path).set(bearer(teller));
      const big = ACCOUNT.big;
      for (const query of ['', 'type=debit', 'kind=withdrawal', ...ranges]) {
        const first = await get(`/api/v1/accounts/${big}/operations?limit=20&${query}`);
        expect(first.status).toBe(200);
        if (first.body.nextCursor) {
          const second = await get(
            `/api/v1/accounts/${big}/operations?limit=20&${query}&cursor=${first.body.nextCursor}`,
          );
          expect(second.status).toBe(200);
        }
        expect((await get(`/api/v1/operations?limit=20&${query}`)).status).toBe(200);
        expect((await get(`/api/v1/operations?limit=20&accountId=${big}&${query}`)).status).toBe(
          200,
        );
        expect((await get(`/api/v1/accounts/${ACCOUNT.single}/operations?${query}`)).status).toBe(
          200,
        );
      }
      expect((await get(`/api/v1/accounts/${big}/operations?page=50&limit=100`)).status).toBe(200);
      expect((await get(`/api/v1/accounts/${big}/statement?${month}`)).status).toBe(200);
      const whole = await get(`/api/v1/accounts/${big}/statement?from=2000-01-01&format=csv`);
      expect(whole.status).toBe(200);
      expect(whole.text.split('\r\n').length).toBeGreaterThan(size.bigAccount);
      const bank = banking(t, teller);
      const deposit = await bank.deposit(big, '1.00');
      expect(deposit.status).toBe(201);
      expect((await bank.transfer(big, ACCOUNT.twenty, '1.00')).status).toBe(201);
      expect((await bank.reverse(deposit.body.id)).status).toBe(201);

      const problems: string[] = [];
      const n = await explainEach(
        directUrl(t.database!),
        captured.values(),
        ({ text, mode, plan, ran }) => {
          const found = scans(plan, ran);
          // A plan that ran is judged by the rows it read (a sequential scan under a LIMIT may
          // read no more than an index would); one that could not run, by its shape.
          if (!ran && found.some((scan) => scan.startsWith('Seq Scan on operations'))) {
            problems.push(
              `${mode}: a sequential scan of operations in:\n${text}\n${found.join('\n')}`,
            );
          }
          const read = ran ? operationRowsRead(plan) : 0;
          if (read > 10_200) {
            problems.push(`${mode}: ${read} operations read by:\n${text}\n${found.join('\n')}`);
          }
          for (const scan of accountFiltered(plan)) problems.push(`${mode}: ${scan} in:\n${text}`);
        },
      );
      expect(n).toBeGreaterThan(40);
      expect(problems).toEqual([]);
    }, 120_000);

    it("a page of 20 reads 21 operations (and its cursor's row), an account's on its own index, with any plan", async () => {
      const get = (path: string) => t.http.get(path).set(bearer(teller));
      const big = ACCOUNT.big;
      captured.clear();
      const first = await get(`/api/v1/accounts/${big}/operations?limit=20`);
      expect(first.status).toBe(200);
      const next = `cursor=${first.body.nextCursor}`;
      expect((await get(`/api/v1/accounts/${big}/operations?limit=20&${next}`)).status).toBe(200);
      const staff = await get(`/api/v1/operations?limit=20&accountId=${big}`);
      expect(staff.status).toBe(200);
      expect(
        (await get(`/api/v1/operations?limit=20&accountId=${big}&cursor=${staff.body.nextCursor}`))
          .status,
      ).toBe(200);
      // The bank-wide list keeps its own index.
      expect((await get('/api/v1/operations?limit=20')).status).toBe(200);
      const pages = [...captured.values()].filter((c) =>
        /ORDER BY o\.created_at DESC/.test(c.text),
      );
      expect(pages).toHaveLength(5);
      const reads: string[] = [];
      await explainEach(directUrl(t.database!), pages, ({ text, mode, plan }) => {
        const read = operationRowsRead(plan);
        if (read > 22) reads.push(`${mode}: ${read} operations read by:\n${text}`);
        const index = /o\.account_id = /.test(text)
          ? 'operations_account_created_seq_idx'
          : 'operations_bank_created_seq_idx';
        const found = scans(plan, true).filter((scan) => / on operations using /.test(scan));
        if (!found.some((scan) => scan.endsWith(index))) {
          reads.push(`${mode}: not on ${index}:\n${text}\n${found.join('\n')}`);
        }
      });
      expect(reads).toEqual([]);
    }, 60_000);

    // The bank-wide page is planned at every request, and rightly: without an account, a generic
    // plan costs LIMIT $n as a tenth of the table, and its custom plan is a cheap one to make.
    it("an account's pages run on their generic plan, not planned again at every request", async () => {
      const get = (path: string) => t.http.get(path).set(bearer(teller));
      captured.clear();
      // A 20-operation account: the statements' generic plans must look no costlier than the plans
      // made for its values, or PostgreSQL keeps planning them.
      const first = await get(`/api/v1/accounts/${ACCOUNT.twenty}/operations?limit=10`);
      expect(first.status).toBe(200);
      const next = `cursor=${first.body.nextCursor}`;
      expect(
        (await get(`/api/v1/accounts/${ACCOUNT.twenty}/operations?limit=10&${next}`)).status,
      ).toBe(200);
      const pages = [...captured.values()].filter((c) =>
        /ORDER BY o\.created_at DESC/.test(c.text),
      );
      expect(pages).toHaveLength(2);

      const client = new Client({ connectionString: directUrl(t.database!) });
      await client.connect();
      const custom: string[] = [];
      try {
        for (const [n, { text, values }] of pages.entries()) {
          await client.query('BEGIN');
          try {
            await client.query({ name: `page_${n}`, text, values });
            // PostgreSQL plans a prepared statement for its values five times, then keeps the
            // generic plan unless that looks costlier than the plans it made.
            for (let i = 0; i < 6; i++) await client.query({ name: `page_${n}`, text, values });
            const [{ generic_plans }] = (
              await client.query<{ generic_plans: string }>(
                `SELECT generic_plans FROM pg_prepared_statements WHERE name = $1`,
                [`page_${n}`],
              )
            ).rows;
            if (Number(generic_plans) === 0) custom.push(text);
          } finally {
            await client.query('ROLLBACK');
          }
        }
      } finally {
        await client.end();
      }
      expect(custom).toEqual([]);
    }, 60_000);
  },
);
