import cluster, { Worker } from 'node:cluster';
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { devSecret } from './config/app-config';
import { Env, validateEnv } from './config/env';
import { ClusterMetricsController, startMetricsServer } from './metrics/metrics-server';

const log = (level: number, msg: string) =>
  process.stdout.write(
    `${JSON.stringify({ level, time: Date.now(), pid: process.pid, context: 'Cluster', msg })}\n`,
  );

/**
 * The configuration as the app will see it (the environment over the .env
 * file), checked before anything starts; an error names every bad variable
 * and the process exits 1, without a stack trace.
 */
export function checkedConfiguration(): Env {
  const file = existsSync('.env') ? parseEnv(readFileSync('.env', 'utf8')) : {};
  try {
    return validateEnv({ ...file, ...process.env });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * WEB_CONCURRENCY > 1 (with DATABASE_URL): this process forks that many
 * workers, each the whole service with its own pool, sharing the port. They
 * share nothing in memory (sessions, throttling and idempotency live in the
 * database), so they behave as instances on one machine. A worker that dies
 * after it started listening is replaced (again and again, more slowly, while
 * replacements cannot start, as during a database outage); a first worker that
 * cannot start stops the service.
 * SIGTERM/SIGINT stop the workers gracefully, then this process.
 * With METRICS_ENABLED this process serves the metrics of all workers,
 * summed, on METRICS_PORT before it forks them (the workers do not listen
 * there); a port it cannot take stops the service.
 *
 * Answers whether this process is the primary (and so must not start the app).
 */
export async function startClusterIfAsked(env: Env): Promise<boolean> {
  if (!cluster.isPrimary || env.WEB_CONCURRENCY <= 1) return false;
  if (env.METRICS_ENABLED) await serveWorkersMetrics(env);
  if (env.JWT_ALGORITHM === 'HS256' && !env.JWT_SECRET) {
    // Made (or read) once here, so the workers cannot race to create different ones.
    process.env.JWT_SECRET = devSecret(env.DATA_DIR);
  }

  let stopping = false;
  /** Until every first worker has listened once, a worker that cannot boot stops the service. */
  let starting = true;
  /** Wait before replacing a worker that died before listening; doubles up to 30 s. */
  let backoff = 1000;
  /** Live workers, and whether each has started listening (booted). */
  const started = new Map<Worker, boolean>();
  const fork = () => started.set(cluster.fork(), false);
  cluster.on('listening', (worker) => {
    started.set(worker, true);
    backoff = 1000;
    if ([...started.values()].filter(Boolean).length >= env.WEB_CONCURRENCY) starting = false;
  });
  cluster.on('exit', (worker, code, signal) => {
    const booted = started.get(worker) ?? false;
    started.delete(worker);
    if (stopping) {
      // With the exit code set when a first worker could not start (1), else 0.
      if (started.size === 0) process.exit();
      return;
    }
    const why = signal ? `signal ${signal}` : `code ${code}`;
    if (!booted && starting) {
      // A service that cannot start (bad database URL...) would only loop: stop.
      log(60, `A worker failed to start (${why}); stopping the service`);
      stopping = true;
      for (const other of started.keys()) other.process.kill('SIGTERM');
      process.exitCode = code || 1;
      if (started.size === 0) process.exit(process.exitCode);
      return;
    }
    if (booted) {
      log(50, `Worker ${worker.process.pid} exited (${why}); starting another`);
      fork();
      return;
    }
    // A replacement could not start (the database is down, say): try again, more slowly.
    log(50, `A replacement worker failed to start (${why}); retrying in ${backoff / 1000} s`);
    setTimeout(() => {
      if (!stopping) fork();
    }, backoff);
    backoff = Math.min(backoff * 2, 30_000);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(30, `Stopping ${started.size} workers on ${signal}`);
      if (started.size === 0) process.exit(0);
      for (const worker of started.keys()) worker.process.kill('SIGTERM');
    });
  }
  log(30, `Starting ${env.WEB_CONCURRENCY} workers`);
  for (let i = 0; i < env.WEB_CONCURRENCY; i++) fork();
  return true;
}

/** The primary's metrics server: the sum of its workers' metrics (AggregatorRegistry). */
async function serveWorkersMetrics(env: Env): Promise<void> {
  try {
    const { url } = await startMetricsServer(ClusterMetricsController, {
      port: env.METRICS_PORT,
      host: env.METRICS_HOST,
      // Its warnings and errors (a failed scrape) as this process's log lines; not Nest's start-up.
      logger: {
        log: () => undefined,
        warn: (message: unknown) => log(40, String(message)),
        error: (message: unknown) => log(50, String(message)),
      },
    });
    log(30, `Metrics of all workers served on ${url}`);
  } catch (error) {
    log(60, `Cannot serve metrics on ${env.METRICS_HOST}:${env.METRICS_PORT}: ${String(error)}`);
    process.exit(1);
  }
}
