import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * With TEST_DATABASE_URL (a PostgreSQL server), every e2e file gets its own
 * database cloned from a template migrated once per run. Without it, every
 * app gets a fresh in-memory embedded database.
 */
export const SERVER_URL = process.env.TEST_DATABASE_URL || undefined;
// One template per run (global setup picks the name), so concurrent runs on one server never collide.
export const TEMPLATE_DB = () => process.env.TEST_TEMPLATE_DB ?? 'bank_test_template';
export const onServer = SERVER_URL !== undefined;

/**
 * A transaction-mode pooler (PgBouncer) in front of the server: with
 * TEST_POOLER_URL, the services under test reach their databases through it,
 * while the tests make, clone and inspect databases directly.
 */
export const POOLER_URL = process.env.TEST_POOLER_URL || undefined;

const onDatabase = (base: string, name: string) => {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
};

/** The server's own URL of database `name`, for the tests' own connections. */
export const directUrl = (name: string) => onDatabase(SERVER_URL!, name);

/** The URL a service under test uses for database `name`: through the pooler when there is one. */
export const databaseUrl = (name: string) => onDatabase(POOLER_URL ?? SERVER_URL!, name);

/** The environment that points a service at database `name`. */
export function databaseEnv(name: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl(name),
    ...(POOLER_URL ? { DATABASE_POOLER: 'transaction' } : {}),
  };
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function cloneTemplate(): Promise<string> {
  const name = `bank_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB()}`);
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
