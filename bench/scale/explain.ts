/**
 * The plans of the list and statement queries on a seeded ledger, with the
 * counterparty of every transfer leg shown:
 *
 *   npm exec -- ts-node bench/scale/explain.ts
 *
 * It makes a fresh database (BENCH_EXPLAIN_SIZE: small or large, the
 * default), lets the built service migrate it (`npm run build` first),
 * seeds it (seed.ts) and checks it, or uses BENCH_EXPLAIN_DB as it is. The
 * SQL is the service's own: OperationsRepository writes it into a data
 * source that only records it. Each query runs as a prepared statement
 * under EXPLAIN (ANALYZE, BUFFERS), with plan_cache_mode set to
 * force_custom_plan, then force_generic_plan, three times each (the last,
 * on a warm cache, is printed). The database is dropped at the end unless
 * BENCH_KEEP is set or it was given.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { Caller } from '../../src/auth';
import { OperationsRepository } from '../../src/operations/operations.repository';
import { startService, stopService } from '../lib/service';
import { admin, sql, urlFor } from '../lib/settings';
import { ACCOUNT, checkLedger, LARGE, seedLedger, SMALL } from './seed';

const SIZE = process.env.BENCH_EXPLAIN_SIZE === 'small' ? SMALL : LARGE;
const GIVEN = process.env.BENCH_EXPLAIN_DB;
const KEEP = !!process.env.BENCH_KEEP || !!GIVEN;
const RUNS = 3;

interface Captured {
  text: string;
  values: unknown[];
}

/** A DataSource that records the statements sent to it and answers one empty-ish row. */
function recorder(): { db: DataSource; taken: Captured[] } {
  const taken: Captured[] = [];
  const row = { allowed: true, n: 0, total: null, credits: '0', debits: '0' };
  const pool = {
    query: async (q: { text: string; values: unknown[] }) => {
      taken.push({ text: q.text, values: q.values });
      return { rows: [row] };
    },
  };
  const db = {
    driver: { master: pool },
    query: async (text: string, values: unknown[]) => {
      taken.push({ text, values });
      return [row];
    },
  };
  return { db: db as unknown as DataSource, taken };
}

const none = { type: null, kind: null, from: null, to: null };

/** `legs/rows`: of the operations a query answered, those of a transfer with a counterparty. */
function shown(rows: Array<Record<string, string | null>>): string | undefined {
  if (rows.length === 0) return undefined;
  if ('body' in rows[0]) {
    const body = rows.map((r) => r.body ?? '').join(',');
    const legs = body.split('"counterparty":{').length - 1;
    return `${legs}/${body.split('"performedBy":').length - 1}`;
  }
  if (!('counterparty_number' in rows[0])) return undefined;
  const ops = rows.filter((r) => r.id);
  return `${ops.filter((r) => r.counterparty_number).length}/${ops.length}`;
}

async function main(): Promise<void> {
  const db = GIVEN ?? `bank_explain_${SIZE.name}_${randomBytes(3).toString('hex')}`;
  if (!GIVEN) {
    await admin(`CREATE DATABASE ${db}`);
    await stopService(await startService({ url: urlFor(db) }));
    const [{ id }] = await sql<{ id: string }>(
      `SELECT id FROM users WHERE username = 'admin'`,
      [],
      db,
    );
    const started = Date.now();
    await seedLedger(urlFor(db), SIZE, id);
    console.log(`${SIZE.name}: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(await checkLedger(urlFor(db)));
  }
  const client = new Client({ connectionString: urlFor(db) });
  await client.connect();
  try {
    const [{ id: adminId }] = (
      await client.query<{ id: string }>(`SELECT id FROM users WHERE username = 'admin'`)
    ).rows;
    const sessionId = randomUUID();
    await client.query(
      `INSERT INTO sessions (id, user_id, last_used_at, expires_at, refresh_hash)
       VALUES ($1, $2, now(), now() + interval '1 day', '\\x00')`,
      [sessionId, adminId],
    );
    const caller = new Caller(adminId, sessionId);
    const { rows: big } = await client.query<{ n: string }>(
      `SELECT operation_count AS n FROM accounts WHERE id = $1`,
      [ACCOUNT.big],
    );
    const n = Number(big[0].n);
    const at = async (offset: number) =>
      (
        await client.query<{ seq: string; created_at: Date }>(
          `SELECT seq, created_at FROM operations WHERE account_id = $1
            ORDER BY created_at DESC, seq DESC OFFSET $2 LIMIT 1`,
          [ACCOUNT.big, offset],
        )
      ).rows[0];
    const middle = await at(Math.floor(n / 2));
    const newest = await at(0);

    const { db: fake, taken } = recorder();
    const repo = new OperationsRepository(fake);
    const window = { afterSeq: null, offset: 0, limit: 20 };
    const queries: Array<[string, () => Promise<unknown>]> = [
      ['account page 1', () => repo.pageForAccount(caller, ACCOUNT.big, none, window)],
      [
        `account cursor page (after seq ${middle.seq}, half way down)`,
        () => repo.pageForAccount(caller, ACCOUNT.big, none, { ...window, afterSeq: middle.seq }),
      ],
      ['staff-wide page 1 (page and total)', () => repo.page(null, none, window)],
      [
        'statement batch, first (whole history, JSON)',
        () =>
          repo.statementBatch(
            caller,
            ACCOUNT.big,
            new Date('2000-01-01'),
            null,
            newest.seq,
            5000,
            'json',
          ),
      ],
      [
        `statement batch half way down (after seq ${middle.seq}, JSON)`,
        () =>
          repo.statementBatch(
            caller,
            ACCOUNT.big,
            new Date('2000-01-01'),
            middle.seq,
            newest.seq,
            5000,
            'json',
          ),
      ],
    ];
    for (const [name, build] of queries) {
      taken.length = 0;
      await build();
      for (const [part, q] of taken.entries()) {
        const literals = q.values.map((v) =>
          v === null
            ? 'NULL'
            : client.escapeLiteral(v instanceof Date ? v.toISOString() : String(v as string)),
        );
        await client.query(`DEALLOCATE ALL`);
        await client.query(`PREPARE q AS ${q.text}`);
        const legs = shown(
          (await client.query<Record<string, string | null>>(q.text, q.values)).rows,
        );
        console.log(`\n===== ${name}${taken.length > 1 ? ` [${part + 1}]` : ''}`);
        if (part === 0) console.log(`rows with a counterparty / rows: ${legs ?? '-'}`);
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET plan_cache_mode = ${mode}`);
          let plan: string[] = [];
          for (let i = 0; i < RUNS; i++) {
            const { rows } = await client.query<{ 'QUERY PLAN': string }>(
              `EXPLAIN (ANALYZE, BUFFERS) EXECUTE q(${literals.join(', ')})`,
            );
            plan = rows.map((r) => r['QUERY PLAN']);
          }
          console.log(`--- ${mode}\n${plan.join('\n')}`);
        }
        // What the server itself chooses for a named statement (the service's prepared ones):
        // custom plans for the first five executions, then generic unless it costs more.
        await client.query(`DEALLOCATE ALL`);
        await client.query(`PREPARE q AS ${q.text}`);
        await client.query(`SET plan_cache_mode = auto`);
        const times: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now();
          await client.query(`EXECUTE q(${literals.join(', ')})`);
          times.push(performance.now() - t0);
        }
        const [cache] = (
          await client.query<{ generic_plans: string; custom_plans: string }>(
            `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'q'`,
          )
        ).rows;
        console.log(
          `--- auto: ${cache.custom_plans} custom and ${cache.generic_plans} generic plans in 10 executions; ` +
            `round trip of the last five: ${times
              .slice(5)
              .map((t) => t.toFixed(2))
              .join(', ')} ms`,
        );
      }
    }
  } finally {
    await client.end();
    if (!KEEP) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    else console.log(`kept database ${db}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
