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

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL!);
  url.pathname = `/${name}`;
  return url.toString();
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
