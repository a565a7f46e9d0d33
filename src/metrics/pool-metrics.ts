import { Injectable, OnApplicationShutdown, OnModuleInit, Provider } from '@nestjs/common';
import {
  InjectMetric,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { EventEmitter } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import type { Gauge, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { poolOf } from '../common/prepared';
import { SERIES } from './series';

/** A gauge of the pool read at scrape time: nothing is counted between scrapes. */
const poolGauge = (name: string, help: string, read: (pool: Pool) => number) =>
  makeGaugeProvider({
    name,
    help,
    inject: [DataSource],
    collect(this: Gauge, dataSource: DataSource) {
      const pool = poolOf(dataSource);
      this.set(pool ? read(pool) : 0);
    },
  });

/** Statements take 0.1 ms (a read by primary key) to seconds (a statement batch, a lock wait). */
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The database series: the pool's state, and how long its statements take. */
export const poolSeries: Provider[] = [
  poolGauge(SERIES.poolConnections, 'Connections the pool holds open', (p) => p.totalCount),
  poolGauge(SERIES.poolIdle, 'Open connections no request is using', (p) => p.idleCount),
  poolGauge(
    SERIES.poolWaiting,
    'Requests waiting for a connection (the pool is exhausted)',
    (p) => p.waitingCount,
  ),
  makeHistogramProvider({
    name: SERIES.queryDuration,
    help: 'Time from sending a statement to its result, on any pool connection',
    buckets: QUERY_BUCKETS,
  }),
];

/** Marks a pg client whose query() is timed already. */
const TIMED = Symbol('bank-api: query duration recorded');

type AnyQuery = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Times every statement `client` sends, whichever way it is called: with a
 * callback (pg-pool's pool.query, which the prepared statements use), for a
 * promise (TypeORM), or as a submittable (a stream), so that no caller
 * changes. Once per client.
 */
export function timeQueries(client: PoolClient, histogram: Histogram): void {
  const timed = client as PoolClient & { [TIMED]?: true };
  if (timed[TIMED]) return;
  timed[TIMED] = true;
  const query = (client as unknown as { query: AnyQuery }).query;
  (client as unknown as { query: AnyQuery }).query = function timedQuery(...args) {
    const stop = histogram.startTimer();
    // Never stop(result): the timer would take the query's result for labels.
    const end = () => void stop();
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = function (this: unknown, ...results: unknown[]) {
        end();
        return (callback as AnyQuery).apply(this, results);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      void (result as PromiseLike<unknown>).then(end, end);
    } else if (typeof (result as { once?: unknown } | undefined)?.once === 'function') {
      // Until it ends. One that fails is not timed: a listener for its 'error' would keep an
      // error nobody else listens for from being thrown.
      (result as EventEmitter).once('end', end);
    }
    return result;
  };
}

/**
 * Installs the query timer on the pool TypeORM holds, without changing how
 * anything queries: each connection is wrapped the first time the pool hands
 * it out ('acquire', for the pool's own query() and TypeORM's query runners
 * alike), including those opened before metrics were set up.
 */
@Injectable()
export class PoolMetrics implements OnModuleInit, OnApplicationShutdown {
  private pool?: Pool;
  private readonly onAcquire = (client: PoolClient) => timeQueries(client, this.queryDuration);

  constructor(
    private readonly dataSource: DataSource,
    @InjectMetric(SERIES.queryDuration) private readonly queryDuration: Histogram,
  ) {}

  onModuleInit(): void {
    this.pool = poolOf(this.dataSource);
    this.pool?.on('acquire', this.onAcquire);
  }

  onApplicationShutdown(): void {
    this.pool?.off('acquire', this.onAcquire);
  }
}
