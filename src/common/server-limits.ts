import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { AppConfig } from '../config/app-config';
import { answerExpectation } from './client-errors';

/**
 * How often Node looks for requests past REQUEST_TIMEOUT (its default is
 * every 30 s, which would let a 30 s timeout run to a minute). Set when the
 * server is made; looking costs a walk over the open connections.
 */
export const CONNECTIONS_CHECK_MS = 1000;

/** File descriptors kept for what is not a client: the database pool, logs, data files. */
const RESERVED_DESCRIPTORS = 64;

/**
 * The soft limit on open files of this process (Linux: /proc/self/limits),
 * or null where it cannot be read.
 */
export function openFilesLimit(limits = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/**
 * MAX_CONNECTIONS, or when it is 0 the open-files limit less what the pool
 * and the process need besides: clients that hold connections open can then
 * never take the descriptors the database connections need.
 */
export function connectionCap(config: AppConfig, filesLimit = openFilesLimit()): number {
  if (config.http.maxConnections > 0) return config.http.maxConnections;
  if (filesLimit === null) return 1024;
  const reserve = RESERVED_DESCRIPTORS + config.database.poolSize;
  return Math.max(16, Math.min(filesLimit - reserve, 1_000_000));
}

/**
 * What one client may hold of the HTTP server: REQUEST_TIMEOUT for a
 * request's headers and body to arrive (Node answers 408 through the client
 * error handler), a cap on open connections (Node closes those beyond it at
 * once, and says so in the log, at most once a minute), and a 417 problem
 * for an Expect header that cannot be met.
 */
export function applyServerLimits(server: Server, config: AppConfig): void {
  const timeout = config.http.requestTimeoutSeconds * 1000;
  server.headersTimeout = timeout;
  server.requestTimeout = timeout;
  server.maxConnections = connectionCap(config);
  server.on('checkExpectation', answerExpectation);
  const logger = new Logger('HTTP');
  let lastWarning = 0;
  server.on('drop', () => {
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    logger.warn(
      `At ${server.maxConnections} open connections (MAX_CONNECTIONS): new connections are being closed`,
    );
  });
}
