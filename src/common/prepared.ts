import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import type { Pool, PoolClient } from 'pg';
import { retryingConflicts } from './transactions';

/** Data sources whose server connections are shared by a transaction-mode pooler. */
const pooled = new WeakSet<DataSource>();

/**
 * Says that `db` reaches PostgreSQL through a transaction-mode pooler
 * (PgBouncer, RDS Proxy, Supavisor): a server connection serves another
 * client after each transaction, so statements are not kept on it by name.
 */
export function behindTransactionPooler(db: DataSource): void {
  pooled.add(db);
}

/** The pg Pool TypeORM holds for `db`; none once it is closed. */
export function poolOf(db: DataSource): Pool | undefined {
  return (db.driver as unknown as { master?: Pool }).master;
}

/**
 * A hot-path query outside any transaction, as a named prepared statement on
 * the pg pool TypeORM already holds: the server parses and plans it once per
 * connection instead of on every request. Behind a transaction-mode pooler
 * it is an unnamed statement, parsed and planned each time. Errors come back
 * as TypeORM's QueryFailedError, like every other query's.
 */
export async function preparedQuery<T>(
  db: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = poolOf(db)!;
  try {
    const result = await pool.query(pooled.has(db) ? { text, values } : { name, text, values });
    return result.rows as T[];
  } catch (error) {
    throw new QueryFailedError(text, values, error as Error);
  }
}

/** Runs one statement: a named prepared one on the pool, or one in a transaction. */
export type Querier = <T>(name: string, text: string, values: unknown[]) => Promise<T[]>;

/**
 * Outside transactions: named prepared statements on the pool. A statement
 * is all-or-nothing, so one that meets a deadlock or serialization failure
 * runs again.
 */
export const onPool =
  (db: DataSource): Querier =>
  <T>(name: string, text: string, values: unknown[]) =>
    retryingConflicts(() => preparedQuery<T>(db, name, text, values));

/**
 * Inside a transaction: on its connection (the one that holds its locks), as
 * a named prepared statement there unless a pooler stands in between.
 */
export const onManager =
  (em: EntityManager): Querier =>
  async <T>(name: string, text: string, values: unknown[]) => {
    const client = (em.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)
      ?.databaseConnection;
    if (!client || pooled.has(em.dataSource)) return em.query<T[]>(text, values);
    try {
      return (await client.query({ name, text, values })).rows as T[];
    } catch (error) {
      throw new QueryFailedError(text, values, error as Error);
    }
  };
