/** The benchmarks' settings (environment variables) and their PostgreSQL server. */
import { join } from 'node:path';
import { Client } from 'pg';

export const ROOT = join(__dirname, '..', '..');
export const DURATION = Number(process.env.BENCH_DURATION ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
export const ADMIN_URL =
  process.env.BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Also run the throughput scenarios with this many worker processes (WEB_CONCURRENCY); 1: not. */
export const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** A comma-separated subset of the scenarios to run (all by default). */
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? '').split(',').filter(Boolean);
export const wanted = (scenario: string) => SCENARIOS.length === 0 || SCENARIOS.includes(scenario);
/** Extra arguments for the service's and the floor's node processes, e.g. --cpu-prof for a profile. */
export const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The URL of database `db` on the benchmark's server. */
export function urlFor(db: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  return url.toString();
}

/** Runs SQL on `db` (the admin database by default) and answers its rows. */
export async function sql<T = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
  db?: string,
): Promise<T[]> {
  const client = new Client({ connectionString: db ? urlFor(db) : ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export const admin = (text: string) => sql(text).then(() => undefined);
