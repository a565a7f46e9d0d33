import type { FastifyInstance } from 'fastify';
import type { Params } from 'nestjs-pino';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import { callerAddress } from './common/request-origin';
import { AppConfig } from './config/app-config';
import { onRequestEnd, Outcome } from './common/request-end';
import { pathOf } from './common/request-path';

/** Never logged: credentials, tokens, cookies. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  '*.refresh',
  '*.access',
];

let destination: DestinationStream | undefined;

/**
 * Where every log line goes: standard output, written asynchronously. One
 * stream for Nest's logger and for the request logger, so their lines keep
 * the order they were logged in.
 */
export function logDestination(): DestinationStream {
  destination ??= pino.destination({ dest: 1, sync: false });
  return destination;
}

/**
 * nestjs-pino gives Nest's Logger its pino instance. Its per-request
 * middleware (pino-http through @fastify/middie, a child logger for every
 * request) is not mounted: requests are logged by {@link logRequests} from
 * Fastify's own hook, and errors carry the request id themselves.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACT, censor: '[redacted]' },
        // logRequests writes plain objects; pino-http's serializers would expect Node's request and response.
        wrapSerializers: false,
        serializers: { req: (req: unknown) => req, res: (res: unknown) => res },
      },
      logDestination(),
    ],
    forRoutes: [],
  };
}

/** The level of a finished request's log line. */
export function requestLevel(statusCode: number): Level {
  if (statusCode === 503) return 'warn';
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/** The level of the line of a request that ended before its answer did. */
const EARLY_END_LEVEL: Record<Exclude<Outcome, 'completed'>, Level> = {
  aborted: 'info',
  failed: 'warn',
};

const MESSAGE: Record<Outcome, string> = {
  completed: 'request completed',
  aborted: 'request aborted',
  failed: 'request failed',
};

/**
 * One line per request, however it ended (completed, aborted by its client
 * or cut off, failed mid-answer): id, method, path (the query string is
 * left out, it may carry search terms), caller address, status, time, and
 * for an early end its outcome and reason. Costs one level check when the
 * line is below the configured level.
 */
export function logRequests(fastify: FastifyInstance, given?: Logger): void {
  onRequestEnd(fastify, (request, reply, end) => {
    // nestjs-pino makes its root logger when the application initialises, after this hook is added.
    const logger = given ?? PinoLogger.root;
    const early = end.outcome !== 'completed';
    const level = early
      ? EARLY_END_LEVEL[end.outcome as 'aborted']
      : requestLevel(reply.statusCode);
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        req: {
          id: request.id,
          method: request.method,
          url: pathOf(request.url),
          remoteAddress: callerAddress(request),
        },
        res: { statusCode: reply.statusCode },
        responseTime: Math.round(reply.elapsedTime),
        ...(early ? { outcome: end.outcome, reason: end.reason } : {}),
      },
      !early && reply.statusCode >= 500 ? 'request errored' : MESSAGE[end.outcome],
    );
  });
}
