/**
 * A ledger of a given size, generated in SQL: clients, accounts and their
 * operations, written straight into a migrated database in a few statements,
 * then checked against every money rule.
 *
 * Every account's history alternates a credit of 2m and a debit of m (m
 * depends on the account), so its balance after operation i is known in
 * closed form and never goes below zero; operations are stamped at even
 * intervals after the account's opening, in the order of their seq. The big
 * account's history runs beside the others', or (`bigAccountOlder`) wholly
 * before them, as a merchant that stopped trading or a migrated history.
 *
 * About three in ten operations are transfer legs. An account's tier (k % 3)
 * doubles its m: m = (100 + 10g) << tier, g = (k / 3) % 2. A debit of m of
 * an account of tier t + 1 is the amount of a credit (2m) of an account of
 * tier t with the same g, so such a debit and such a credit, on two different
 * accounts, are the two legs of one transfer (kind 'transfer', one
 * transfer_id) without changing either account's closed form. The candidate
 * legs ("slots": every other debit and every other credit; the big account's
 * every debit and every credit) of each class (t, g) are numbered, account by
 * account, on both sides, and the smaller side's count of them is spread
 * evenly over the larger side's, so that the big account's legs run through
 * its whole history. Each leg keeps its own account's instant: the two legs
 * of a seeded transfer are not stamped alike, as the service's are.
 */
import { createHash } from 'node:crypto';
import { Client } from 'pg';

export interface Size {
  name: string;
  clients: number;
  accounts: number;
  /** Operations in all, at least. */
  operations: number;
  /** Operations of the one big account. */
  bigAccount: number;
  /** The big account's operations are all older than every other account's. */
  bigAccountOlder?: boolean;
}

export const SMALL: Size = {
  name: 'small',
  clients: 200,
  accounts: 250,
  operations: 10_000,
  bigAccount: 1_000,
};
export const LARGE: Size = {
  name: 'large',
  clients: 200_000,
  accounts: 250_000,
  operations: 10_000_000,
  bigAccount: 1_000_000,
};
/**
 * A ledger of `operations` shaped as the large one (an account per 40
 * operations, a client per 50), whose big account holds a third of it, all
 * older than the rest: planned on the bank-wide (created_at, seq) index, its
 * page would walk every newer operation.
 */
export function skewed(operations: number): Size {
  return {
    name: 'skewed',
    clients: Math.round(operations / 50),
    accounts: Math.round(operations / 40),
    operations,
    bigAccount: Math.round(operations / 3),
    bigAccountOlder: true,
  };
}

/** The version (4) and variant (8) digits of a UUID v4, as uuidV4 in SQL sets them. */
const v4Shape = (hex: string) => `${hex.slice(0, 12)}4${hex.slice(13, 16)}8${hex.slice(17)}`;

/** SQL: the UUID of an md5 digest of `text`, as md5Uuid makes it. */
const uuidV4 = (text: string) =>
  `overlay(overlay(md5(${text}) placing '4' from 13) placing '8' from 17)::uuid`;

/** The accounts a benchmark reads: their ids are the same at every size. */
export const ACCOUNT = {
  /** The account with `bigAccount` operations. */
  big: accountId(1),
  /** The first of the 50 accounts of CUSTOMER_CLIENT. */
  customerFirst: accountId(2),
  /** An account with one operation. */
  single: accountId(52),
  /** An account with 20 operations. */
  twenty: accountId(53),
};
/** The client who holds 50 accounts. */
export const CUSTOMER_CLIENT = clientId(1);
export const CUSTOMER_ACCOUNTS = 50;

/** Ids are md5 digests of the row's number, shaped as UUIDs v4: the same at every run. */
export function accountId(k: number): string {
  return md5Uuid(`account${k}`);
}
export function clientId(i: number): string {
  return md5Uuid(`client${i}`);
}
function md5Uuid(text: string): string {
  const hex = v4Shape(createHash('md5').update(text).digest('hex'));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Grace',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'John',
  'Margaret',
  'Dennis',
  'Radia',
  'Ken',
  'Hedy',
  'Tim',
  'Karen',
  'Niklaus',
  'Leslie',
  'Shafi',
  'Robin',
  'Sophie',
];
const SYLLABLES_A = [
  'ka',
  'lo',
  'mi',
  'sa',
  'be',
  'do',
  'fa',
  'gu',
  'ha',
  'ji',
  'ko',
  'lu',
  'ma',
  'ne',
  'po',
  'ra',
  'si',
  'ta',
  'vo',
  'we',
  'ya',
  'zu',
  'bri',
  'cla',
  'dre',
  'fro',
  'gla',
  'kri',
  'pla',
  'stu',
];
const SYLLABLES_B = [
  'ner',
  'son',
  'berg',
  'vic',
  'lin',
  'mann',
  'ston',
  'ford',
  'ley',
  'ton',
  'sen',
  'dal',
  'rez',
  'ski',
  'well',
  'more',
  'by',
  'ker',
  'lor',
  'nez',
  'tti',
  'vska',
  'quist',
  'rup',
  'holm',
];

const sqlArray = (items: string[]) => `ARRAY[${items.map((s) => `'${s}'`).join(',')}]`;

/** Generates the ledger of `size` in the database at `url`; `performer` is the user the operations name. */
export async function seedLedger(url: string, size: Size, performer: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const run = (text: string, values: unknown[] = []) => client.query(text, values);
  try {
    await run(`SET synchronous_commit = off`);
    await run(`SET maintenance_work_mem = '1GB'`);
    await run(`SET max_parallel_maintenance_workers = 2`);
    // Indexes and constraints are built once, after the rows are in: far faster than growing
    // them row by row. Foreign keys go first and come back last.
    const tables = `('operations', 'accounts', 'clients', 'account_holders')`;
    const { rows: constraints } = await run(
      `SELECT conname, conrelid::regclass::text AS tbl, contype, pg_get_constraintdef(oid) AS def
         FROM pg_constraint
        WHERE contype IN ('p', 'u', 'f')
          AND (conrelid::regclass::text IN ${tables} OR confrelid::regclass::text IN ${tables})
        ORDER BY contype = 'f' DESC`,
    );
    const { rows: indexes } = await run(
      `SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename IN ${tables}
          AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
    );
    const dropped = constraints as Array<{ conname: string; tbl: string; def: string }>;
    const plain = indexes as Array<{ indexname: string; indexdef: string }>;
    await run('BEGIN');
    for (const c of dropped) await run(`ALTER TABLE ${c.tbl} DROP CONSTRAINT ${c.conname}`);
    for (const i of plain) await run(`DROP INDEX ${i.indexname}`);

    await run(
      `CREATE FUNCTION pg_temp.luhn(body text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
         SELECT (10 - sum(CASE WHEN i % 2 = 1 THEN (CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END)
                               ELSE d END)::int % 10) % 10
           FROM (SELECT i, substr(body, length(body) - i + 1, 1)::int AS d
                   FROM generate_series(1, length(body)) i) x $$`,
    );
    await run(
      `INSERT INTO clients (id, national_id, first_name, last_name, created_at)
       SELECT ${uuidV4(`'client' || i`)}, 'NID' || lpad(i::text, 9, '0'),
              (${sqlArray(FIRST_NAMES)})[1 + i % ${FIRST_NAMES.length}],
              initcap((${sqlArray(SYLLABLES_A)})[1 + i % ${SYLLABLES_A.length}]
                      || (${sqlArray(SYLLABLES_B)})[1 + (i / ${SYLLABLES_A.length}) % ${SYLLABLES_B.length}]),
              now() - interval '3 years'
         FROM generate_series(1, $1::int) i`,
      [size.clients],
    );

    // The plan: each account's number of operations n and amount m. Account 1 is the big one,
    // 2..51 are held by client 1, 52 has one operation and 53 has twenty. Histories last 700
    // days from a day after the opening: an older big account's ends before the others' begin.
    const others = size.accounts - 53;
    const fixed = size.bigAccount + CUSTOMER_ACCOUNTS * 40 + 1 + 20;
    const base = Math.ceil((size.operations - fixed) / others);
    await run(
      `CREATE TEMP TABLE plan AS
       SELECT k, ${uuidV4(`'account' || k`)} AS id,
              CASE WHEN k = 1 THEN $1::int WHEN k <= 51 THEN 40 WHEN k = 52 THEN 1 WHEN k = 53 THEN 20
                   ELSE greatest(1, $2::int + (k * 7919) % 41 - 20) END AS n,
              (100 + (k / 3) % 2 * 10) << (k % 3) AS m,
              k % 3 AS tier, (k / 3) % 2 AS g,
              -- Every e-th operation is a transfer slot: debits at i % e = 0, credits at i % e = 1.
              CASE WHEN k = 1 THEN 2 ELSE 4 END AS e,
              now() - CASE WHEN k = 1 AND $4::bool THEN interval '4 years' ELSE interval '2 years' END AS opened
         FROM generate_series(1, $3::int) k`,
      [size.bigAccount, base, size.accounts, size.bigAccountOlder ?? false],
    );
    // Whatever the jitter left short goes to account 54, so the ledger holds at least `operations`.
    await run(
      `UPDATE plan SET n = n + greatest(0, $1::int - (SELECT sum(n) FROM plan)) WHERE k = 54`,
      [size.operations],
    );
    // Transfer slots. A class (t, g), numbered 10t + g, pairs debits of tier t + 1 (the senders)
    // with credits of tier t (the receivers). Each side's slots are numbered in account order
    // (start: the account's first); of a side's T slots, M = the smaller side's count are legs:
    // slot q is one when floor((q + 1) M / T) > floor(q M / T), and its transfer is number
    // floor(q M / T) of the class, which is a bijection on both sides.
    await run(
      `ALTER TABLE plan ADD COLUMN s_class int, ADD COLUMN s_start bigint, ADD COLUMN s_t bigint,
                        ADD COLUMN s_m bigint, ADD COLUMN r_class int, ADD COLUMN r_start bigint,
                        ADD COLUMN r_t bigint, ADD COLUMN r_m bigint`,
    );
    await run(
      `UPDATE plan SET s_class = CASE WHEN tier > 0 THEN (tier - 1) * 10 + g END,
                       r_class = CASE WHEN tier < 2 THEN tier * 10 + g END`,
    );
    await run(
      `WITH s AS (SELECT k, sum(n / e) OVER (PARTITION BY s_class ORDER BY k) - n / e AS start,
                         sum(n / e) OVER (PARTITION BY s_class) AS t
                    FROM plan WHERE s_class IS NOT NULL),
            r AS (SELECT k, sum((n + e - 1) / e) OVER (PARTITION BY r_class ORDER BY k) - (n + e - 1) / e AS start,
                         sum((n + e - 1) / e) OVER (PARTITION BY r_class) AS t
                    FROM plan WHERE r_class IS NOT NULL)
       UPDATE plan SET s_start = s.start, s_t = s.t, r_start = r.start, r_t = r.t
         FROM plan p LEFT JOIN s ON s.k = p.k LEFT JOIN r ON r.k = p.k
        WHERE plan.k = p.k`,
    );
    await run(
      `WITH c AS (SELECT s_class AS class, max(s_t) AS t FROM plan GROUP BY s_class),
            d AS (SELECT r_class AS class, max(r_t) AS t FROM plan GROUP BY r_class),
            m AS (SELECT c.class, least(c.t, d.t) AS m FROM c JOIN d ON d.class = c.class)
       UPDATE plan SET s_m = coalesce((SELECT m.m FROM m WHERE m.class = plan.s_class), 0),
                       r_m = coalesce((SELECT m.m FROM m WHERE m.class = plan.r_class), 0)`,
    );
    await run(
      `INSERT INTO accounts (id, number, currency, balance, overdraft_limit, status, opened_at, operation_count)
       SELECT id, s || pg_temp.luhn(s), 'EUR',
              CASE WHEN n % 2 = 1 THEN m * ((n - 1) / 2 + 2) ELSE m * (n / 2) END,
              CASE WHEN k % 4 = 0 THEN 50000 ELSE 0 END, 'active', opened, n
         FROM (SELECT p.*, lpad(nextval('account_number_seq')::text, 10, '0') AS s FROM plan p ORDER BY k) x`,
    );
    await run(
      `INSERT INTO account_holders (account_id, client_id, added_at)
       SELECT id, ${uuidV4(`'client' || CASE WHEN k BETWEEN 2 AND 51 THEN 1 ELSE 2 + (k % ($1::int - 1)) END`)}, opened
         FROM plan`,
      [size.clients],
    );
    // In plan order, so that seq follows each account's history; the skewed ledger in time
    // order, as a ledger that was appended to as it happened lies on disk.
    await run(
      `INSERT INTO operations (id, account_id, type, kind, amount, balance_after, description, transfer_id, performed_by, created_at)
       SELECT gen_random_uuid(), p.id,
              CASE WHEN i % 2 = 1 THEN 'credit' ELSE 'debit' END,
              CASE WHEN x.leg IS NOT NULL THEN 'transfer' WHEN i % 2 = 1 THEN 'deposit' ELSE 'withdrawal' END,
              CASE WHEN i % 2 = 1 THEN 2 * p.m ELSE p.m END,
              CASE WHEN i % 2 = 1 THEN p.m * ((i - 1) / 2 + 2) ELSE p.m * (i / 2) END,
              CASE WHEN x.leg IS NOT NULL THEN CASE WHEN i % 2 = 1 THEN 'Invoice paid' ELSE 'Rent' END
                   WHEN i % 2 = 1 THEN CASE WHEN i % 3 = 0 THEN 'Salary' ELSE 'Cash deposit' END
                   WHEN i % 4 = 0 THEN NULL ELSE 'Card payment' END,
              ${uuidV4(`x.leg`)},
              $1::uuid,
              p.opened + interval '1 day' + (i - 1) * (interval '700 days' / p.n) AS at
         FROM plan p CROSS JOIN LATERAL generate_series(1, p.n) i
        CROSS JOIN LATERAL (
          SELECT CASE
                   WHEN i % p.e = 0 AND (q.s + 1) * p.s_m / nullif(p.s_t, 0) > q.s * p.s_m / nullif(p.s_t, 0)
                     THEN 'transfer' || p.s_class || ':' || q.s * p.s_m / p.s_t
                   WHEN i % p.e = 1 AND (q.r + 1) * p.r_m / nullif(p.r_t, 0) > q.r * p.r_m / nullif(p.r_t, 0)
                     THEN 'transfer' || p.r_class || ':' || q.r * p.r_m / p.r_t
                 END AS leg
            FROM (SELECT p.s_start + i / p.e - 1 AS s, p.r_start + (i - 1) / p.e AS r) q) x
        ${size.bigAccountOlder ? 'ORDER BY at' : ''}`,
      [performer],
    );
    await run('COMMIT');
    for (const i of plain) await run(i.indexdef);
    for (const c of [...dropped].reverse()) {
      await run(`ALTER TABLE ${c.tbl} ADD CONSTRAINT ${c.conname} ${c.def}`);
    }
    await run(`VACUUM ANALYZE clients`);
    await run(`VACUUM ANALYZE accounts`);
    await run(`VACUUM ANALYZE account_holders`);
    await run(`VACUUM ANALYZE operations`);
    // Write the new pages out now, not during the measures.
    await run(`CHECKPOINT`);
  } finally {
    await client.end();
  }
}

/** What the money-rule check found: each count should be 0, and the ledger's size. */
export interface LedgerCheck {
  operations: number;
  accounts: number;
  clients: number;
  /** Accounts whose balance or operation_count is not what their operations say. */
  balanceMismatches: number;
  /** Operations whose balance_after is not the previous one plus or minus their amount. */
  brokenChain: number;
  /** Operations that left their account below -overdraft_limit. */
  belowLimit: number;
  /** Operations whose account or performer does not exist. */
  orphans: number;
  /** Transfer legs (kind 'transfer'). */
  transferLegs: number;
  /**
   * Transfers that are not one debit and one credit of the same amount on two
   * accounts of the same currency.
   */
  brokenTransfers: number;
}

/** Checks every money rule over the whole ledger (a few full scans). */
export async function checkLedger(url: string): Promise<LedgerCheck> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const one = async (text: string) =>
    Number(Object.values((await client.query<Record<string, string>>(text)).rows[0])[0]);
  try {
    await client.query(`SET work_mem = '256MB'`);
    return {
      operations: await one(`SELECT count(*) FROM operations`),
      accounts: await one(`SELECT count(*) FROM accounts`),
      clients: await one(`SELECT count(*) FROM clients`),
      balanceMismatches: await one(
        `SELECT count(*) FROM accounts a
           LEFT JOIN (SELECT account_id, count(*) AS n,
                             sum(CASE WHEN type = 'credit' THEN amount ELSE -amount END) AS s
                        FROM operations GROUP BY account_id) o ON o.account_id = a.id
          WHERE a.balance <> coalesce(o.s, 0) OR a.operation_count <> coalesce(o.n, 0)`,
      ),
      brokenChain: await one(
        `SELECT count(*) FROM (
           SELECT balance_after - CASE WHEN type = 'credit' THEN amount ELSE -amount END
                    - coalesce(lag(balance_after) OVER w, 0) AS gap
             FROM operations WINDOW w AS (PARTITION BY account_id ORDER BY created_at, seq)) x
          WHERE gap <> 0`,
      ),
      belowLimit: await one(
        `SELECT count(*) FROM operations o JOIN accounts a ON a.id = o.account_id
          WHERE o.balance_after < -a.overdraft_limit`,
      ),
      orphans: await one(
        `SELECT count(*) FROM operations o
          WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = o.account_id)
             OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.performed_by)`,
      ),
      transferLegs: await one(`SELECT count(*) FROM operations WHERE kind = 'transfer'`),
      brokenTransfers: await one(
        `SELECT count(*) FROM (
           SELECT o.transfer_id FROM operations o JOIN accounts a ON a.id = o.account_id
            WHERE o.kind = 'transfer'
            GROUP BY o.transfer_id
           HAVING o.transfer_id IS NULL OR count(*) <> 2 OR count(DISTINCT o.account_id) <> 2
               OR count(*) FILTER (WHERE o.type = 'debit') <> 1 OR min(o.amount) <> max(o.amount)
               OR min(a.currency) <> max(a.currency)) x`,
      ),
    };
  } finally {
    await client.end();
  }
}
