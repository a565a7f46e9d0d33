import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import type { Pool } from 'pg';

/**
 * A hot-path query outside any transaction, as a named prepared statement on
 * the pg pool TypeORM already holds: the server parses and plans it once per
 * connection instead of on every request. Errors come back as TypeORM's
 * QueryFailedError, like every other query's.
 */
export async function preparedQuery<T>(
  db: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  try {
    const result = await pool.query({ name, text, values });
    return result.rows as T[];
  } catch (error) {
    throw new QueryFailedError(text, values, error as Error);
  }
}

/** Runs one statement: a named prepared one on the pool, or a plain one in a transaction. */
export type Querier = <T>(name: string, text: string, values: unknown[]) => Promise<T[]>;

/** Outside transactions: named prepared statements on the pool. */
export const onPool =
  (db: DataSource): Querier =>
  <T>(name: string, text: string, values: unknown[]) =>
    preparedQuery<T>(db, name, text, values);

/** Inside a transaction: its manager (the one connection that holds its locks). */
export const onManager =
  (em: EntityManager): Querier =>
  <T>(_name: string, text: string, values: unknown[]) =>
    em.query<T[]>(text, values);
