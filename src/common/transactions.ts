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
 * Runs `work` in one transaction; a serialization failure or deadlock rolls
 * it back and runs it again (with jitter), so callers never see them.
 */
export async function inTransaction<T>(
  db: DataSource,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      if (!isRetryable(error) || attempt >= ATTEMPTS) throw error;
      logger.warn(
        `Retrying a transaction after ${(error as QueryFailedError).message} (attempt ${attempt})`,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
}
