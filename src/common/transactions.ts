import { Logger } from '@nestjs/common';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock
const ATTEMPTS = 6;
const logger = new Logger('Transactions');

/** The PostgreSQL SQLSTATE of a failed query (23505 unique violation...), if it is one. */
export function pgCode(error: unknown): string | undefined {
  return error instanceof QueryFailedError
    ? (error.driverError as { code?: string }).code
    : undefined;
}

export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has(pgCode(error) ?? '');
}

/**
 * Runs `attempt` again (with jitter) when it fails with a serialization
 * failure or a deadlock, so callers never see them. `attempt` must be
 * all-or-nothing: one transaction, or one statement.
 */
export async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error) || n >= ATTEMPTS) throw error;
      logger.warn(`Retrying after ${(error as QueryFailedError).message} (attempt ${n})`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** n));
    }
  }
}

/** Runs `work` in one transaction, again when it meets a serialization failure or deadlock. */
export function inTransaction<T>(
  db: DataSource,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return retryingConflicts(() => db.transaction(work));
}
