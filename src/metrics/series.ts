import { Provider } from '@nestjs/common';
import { makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { AccessTokenCache } from '../auth';

/**
 * The names of the series this service defines; prom-client's default
 * metrics (process_*, nodejs_*) come besides. One list, so that the module
 * can take them out of the registry again when its application closes.
 */
export const SERIES = {
  httpDuration: 'bank_http_request_duration_seconds',
  operations: 'bank_operations_total',
  refusals: 'bank_refusals_total',
  loginFailures: 'bank_login_failures_total',
  loginsThrottled: 'bank_logins_throttled_total',
  refreshReuses: 'bank_refresh_token_reuses_total',
  replays: 'bank_idempotent_replays_total',
  poolConnections: 'bank_db_pool_connections',
  poolIdle: 'bank_db_pool_idle_connections',
  poolWaiting: 'bank_db_pool_waiting_clients',
  queryDuration: 'bank_db_query_duration_seconds',
  tokenCache: 'bank_access_token_cache_lookups_total',
} as const;

/**
 * A request takes 1 ms to 300 ms (a login's argon2id); a statement streams
 * for seconds. Buckets are what an operator's latency objectives need.
 */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the responses say: one histogram, the business counters. */
export const responseSeries: Provider[] = [
  makeHistogramProvider({
    name: SERIES.httpDuration,
    help: 'Time from request to response sent (or to its early end), by method, route template, status code and outcome (completed, aborted, failed)',
    labelNames: ['method', 'route', 'status_code', 'outcome'],
    buckets: HTTP_BUCKETS,
  }),
  makeCounterProvider({
    name: SERIES.operations,
    help: 'Money movements made (201, idempotent replays not counted), by kind',
    labelNames: ['kind'],
  }),
  makeCounterProvider({
    name: SERIES.refusals,
    help: 'Problem-details answers (4xx and 5xx), by their code',
    labelNames: ['code'],
  }),
  makeCounterProvider({
    name: SERIES.loginFailures,
    help: 'Logins refused for wrong credentials (401 on /api/v1/auth/login and /api/token/)',
  }),
  makeCounterProvider({
    name: SERIES.loginsThrottled,
    help: 'Logins refused by the throttle (429 on /api/v1/auth/login and /api/token/)',
  }),
  makeCounterProvider({
    name: SERIES.refreshReuses,
    help: 'Consumed refresh tokens presented again (REFRESH_TOKEN_REUSED: the session is revoked)',
  }),
  makeCounterProvider({
    name: SERIES.replays,
    help: 'Answers replayed for an Idempotency-Key (Idempotent-Replayed: true), by route template',
    labelNames: ['route'],
  }),
];

/**
 * How often a request's access token was found among the verified tokens
 * (a hit spares passport and jsonwebtoken), read from the cache's own counts
 * at scrape time. The hit ratio is hits over hits and misses.
 */
export const tokenCacheSeries: Provider[] = [
  makeCounterProvider({
    name: SERIES.tokenCache,
    help: 'Access tokens looked up among the tokens this instance verified, by result (hit, miss)',
    labelNames: ['result'],
    inject: [AccessTokenCache],
    collect(this: Counter<'result'>, cache: AccessTokenCache) {
      this.reset();
      this.inc({ result: 'hit' }, cache.hits);
      this.inc({ result: 'miss' }, cache.misses);
    },
  }),
];
