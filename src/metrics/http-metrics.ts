import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyInstance } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import { ERROR_CODES } from '../common/problem';
import { ANSWERED_CODE } from '../common/problem-details.filter';
import { onRequestEnd } from '../common/request-end';
import { SERIES } from './series';

/** The route label of a request that no route matched (404, 405): never its raw path. */
export const UNMATCHED = 'unmatched';

/** The money routes, by route template, and the kind of operation a 201 there made. */
export const OPERATION_ROUTES: ReadonlyMap<string, string> = new Map([
  ['/api/v1/accounts/:id/deposits', 'deposit'],
  ['/api/v1/accounts/:id/withdrawals', 'withdrawal'],
  ['/api/v1/transfers', 'transfer'],
  ['/api/v1/operations/:id/reverse', 'reversal'],
]);

/**
 * The login routes, ours and simplejwt's. Both are public, so a 401 there
 * is always wrong credentials, and a 429 always the login throttle.
 */
export const LOGIN_ROUTES: ReadonlySet<string> = new Set(['/api/v1/auth/login', '/api/token']);

/** The top-level `code` member as the problem-details filter writes it. */
const CODE_MEMBER = /"code":"([A-Z_]{1,64})"/;

/**
 * The `code` of a problem-details answer, read from its text rather than
 * parsed: a JSON string cannot hold an unescaped `"code":"`, so the first
 * match is the member itself. A code the service does not define is
 * `UNKNOWN`, so the label's values stay a known, small set. Undefined for
 * any answer that is not problem details.
 */
export function problemCode(contentType: unknown, payload: unknown): string | undefined {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/problem+json')) {
    return undefined;
  }
  const text =
    typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString() : '';
  const code = CODE_MEMBER.exec(text)?.[1];
  return code !== undefined && Object.hasOwn(ERROR_CODES, code) ? code : 'UNKNOWN';
}

/** The series the response hooks write. */
export interface ResponseSeries {
  duration: Histogram<'method' | 'route' | 'status_code' | 'outcome'>;
  operations: Counter<'kind'>;
  refusals: Counter<'code'>;
  loginFailures: Counter;
  loginsThrottled: Counter;
  refreshReuses: Counter;
  replays: Counter<'route'>;
}

/** The response series, from the metric providers of series.ts. */
@Injectable()
export class ResponseMetrics implements ResponseSeries {
  constructor(
    @InjectMetric(SERIES.httpDuration) readonly duration: ResponseSeries['duration'],
    @InjectMetric(SERIES.operations) readonly operations: ResponseSeries['operations'],
    @InjectMetric(SERIES.refusals) readonly refusals: ResponseSeries['refusals'],
    @InjectMetric(SERIES.loginFailures) readonly loginFailures: Counter,
    @InjectMetric(SERIES.loginsThrottled) readonly loginsThrottled: Counter,
    @InjectMetric(SERIES.refreshReuses) readonly refreshReuses: Counter,
    @InjectMetric(SERIES.replays) readonly replays: ResponseSeries['replays'],
  ) {
    // Every known series exists from the first scrape, at 0: a rate over a
    // series that appears only with its first event would miss that event.
    for (const kind of OPERATION_ROUTES.values()) operations.inc({ kind }, 0);
    for (const code of Object.keys(ERROR_CODES)) refusals.inc({ code }, 0);
  }
}

/**
 * Counts what every response says, from the response alone: the services
 * know nothing of metrics. Added only when metrics are on. On the request
 * path it costs two callback hooks, a few comparisons and a histogram
 * observation. An error's code is the one the error filter answered with
 * (ANSWERED_CODE); only an error answer made elsewhere has its body looked
 * at, read as text, never parsed.
 *
 * It is added after the other onSend hooks, so it sees the answer as sent
 * (a fail-closed 500, a CORS refusal rewritten as problem details).
 */
export function recordResponses(fastify: FastifyInstance, series: ResponseSeries): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    if (route !== undefined) {
      if (reply.getHeader('idempotent-replayed') === 'true') {
        series.replays.inc({ route });
      } else if (status === 201 && request.method === 'POST') {
        const kind = OPERATION_ROUTES.get(route);
        if (kind) series.operations.inc({ kind });
      }
      if (LOGIN_ROUTES.has(route)) {
        if (status === 401) series.loginFailures.inc();
        else if (status === 429) series.loginsThrottled.inc();
      }
    }
    if (status >= 400) {
      // The code the error filter answered with (simplejwt's bodies included); else, for answers
      // made elsewhere (a replayed refusal, a fail-closed 500), the one in the body.
      const code =
        (request as { [ANSWERED_CODE]?: string })[ANSWERED_CODE] ??
        problemCode(reply.getHeader('content-type'), payload);
      if (code !== undefined) {
        series.refusals.inc({ code });
        if (code === 'REFRESH_TOKEN_REUSED') series.refreshReuses.inc();
      }
    }
    done(null, payload);
  });
  // Once the last byte is written, or once the answer ended early: a streamed statement counts
  // its whole time, and one its client dropped or the service cut off counts too.
  onRequestEnd(fastify, (request, reply, end) => {
    series.duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED,
        status_code: reply.statusCode,
        outcome: end.outcome,
      },
      reply.elapsedTime / 1000,
    );
  });
}
