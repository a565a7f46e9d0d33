import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { MethodRouter } from './method-router';
import { clientGone, endEarly } from './request-end';
import { ApiError, ErrorCode, ERROR_CODES, FieldError, problemBody } from './problem';
import { isRetryable, pgCode } from './transactions';
import { pathOf } from './request-path';

/**
 * The request property where the filter leaves the code of the error it
 * answered, whatever the body's shape (simplejwt's have none): for whoever
 * observes answers, such as the metrics.
 */
export const ANSWERED_CODE = Symbol('answered error code');

/** What an error answers: its code (hence its status), detail, field errors and headers. */
export interface Resolved {
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

const DEFAULT_CODE: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/** TypeORM's errors for a transaction whose connection was lost (and released) under it. */
const LOST_CONNECTION = new Set([
  'QueryRunnerAlreadyReleasedError',
  'QueryRunnerProviderAlreadyReleasedError',
]);

/** True for errors that mean "the database cannot be reached right now". */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors raised by Node's own sockets may come from another realm.
  if (typeof error !== 'object' || error === null) return false;
  if (LOST_CONNECTION.has((error as { name?: string }).name ?? '')) return true;
  const { code, message } = (error instanceof QueryFailedError ? error.driverError : error) as {
    code?: unknown;
    message?: unknown;
  };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error|Connection is not established/i.test(
      message,
    )
  );
}

/**
 * Turns anything thrown while handling a request into RFC 9457 problem
 * details. Unexpected errors become a 500 that shows nothing internal and is
 * logged with the request id. It maps errors and nothing else: routes that
 * answer differently extend it (SimpleJwtFilter's bodies), and so do those
 * with something to do before an error is answered (SessionFirstFilter).
 * Nest applies the one filter nearest the route, so a route takes one of
 * them at most (no simplejwt route checks its session in its statement).
 * Errors raised before routing (Fastify's body parser: invalid JSON, 413,
 * 415) reach this global filter only, on every route.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  /** `methods`: the routes' methods, to answer 405 rather than 404 for an unknown method. */
  constructor(private readonly methods?: MethodRouter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  protected send(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    // A client that went away before its request had arrived (its body cut short) caused the
    // error: nobody's outage, nothing to answer, and the request's log line says it was
    // aborted. Any other error is logged as ever, whether its client is still there or not.
    if (clientGone(request) && !request.raw.complete) {
      endEarly(reply.raw, 'aborted', 'client_closed');
      return;
    }
    const resolved = this.resolve(exception, request);
    const status = ERROR_CODES[resolved.code];
    if (status >= 500 && resolved.code !== 'SERVICE_UNAVAILABLE') {
      this.logger.error(
        { err: loggable(exception), reqId: request.id },
        // Without the query string, as request logs: it may carry search terms or national ids.
        `Unhandled error on ${request.method} ${pathOf(request.url)}`,
      );
    } else if (resolved.code === 'SERVICE_UNAVAILABLE') {
      this.logger.warn({ reqId: request.id, err: loggable(exception) }, 'Database unavailable');
    }
    if (reply.sent) return;
    (request as FastifyRequest & { [ANSWERED_CODE]?: ErrorCode })[ANSWERED_CODE] = resolved.code;
    this.write(resolved, request, reply);
  }

  /** Sends the problem details of `resolved`. */
  protected write(resolved: Resolved, request: FastifyRequest, reply: FastifyReply): void {
    void reply
      .status(ERROR_CODES[resolved.code])
      .headers({ ...resolved.headers, 'content-type': 'application/problem+json' })
      .send(problemBody(resolved, pathOf(request.url), String(request.id)));
  }

  private resolve(exception: unknown, request: FastifyRequest): Resolved {
    if (exception instanceof ApiError) {
      return {
        code: exception.code,
        detail: exception.message,
        errors: exception.extra.errors,
        headers: exception.extra.headers,
      };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        code: 'SERVICE_UNAVAILABLE',
        detail: 'The database is unavailable; try again shortly',
        headers: { 'retry-after': '5' },
      };
    }
    if (exception instanceof QueryFailedError) {
      const code = pgCode(exception);
      if (code === '23505') return { code: 'CONFLICT', detail: 'The resource already exists' };
      if (code === '23503') {
        return { code: 'CONFLICT', detail: 'The resource is still referenced by another one' };
      }
      if (code === '23514') {
        return { code: 'CONFLICT', detail: 'The change would break a rule of the resource' };
      }
      if (code === '22003') {
        return {
          code: 'VALIDATION_FAILED',
          detail: 'A number is out of the range this field holds',
        };
      }
      // string_data_right_truncation: a value too long for its column is the request's fault.
      if (code === '22001') {
        return { code: 'VALIDATION_FAILED', detail: 'A value is longer than its field holds' };
      }
      if (isRetryable(exception)) {
        return { code: 'CONFLICT', detail: 'A concurrent change conflicted; retry the request' };
      }
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && !request.routeOptions?.url) {
        const allowed = this.methods?.allowed(request.url) ?? [];
        if (allowed.length > 0) {
          return {
            code: 'METHOD_NOT_ALLOWED',
            detail: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}`,
            headers: { allow: allowed.join(', ') },
          };
        }
        return {
          code: 'NOT_FOUND',
          detail: `No route for ${request.method} ${pathOf(request.url)}`,
        };
      }
      return this.fromStatus(status, httpExceptionMessage(exception));
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
      return this.fromStatus(fastifyError.statusCode, fastifyMessage(fastifyError));
    }
    return {
      code: 'INTERNAL',
      detail: 'An unexpected error occurred; quote the request id to support',
    };
  }

  private fromStatus(status: number, detail: string): Resolved {
    const code = DEFAULT_CODE[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
    return {
      code,
      detail: status >= 500 && code === 'INTERNAL' ? 'An unexpected error occurred' : detail,
    };
  }
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

function fastifyMessage(error: { code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than 100 KiB';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Request bodies must be application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is not valid JSON';
    default:
      return error.message ?? 'Bad request';
  }
}

/** What an error log may hold: never query parameters (they can carry hashes or personal data). */
function loggable(error: unknown): object {
  if (!(error instanceof Error)) return { message: String(error) };
  return { type: error.name, message: error.message, code: pgCode(error), stack: error.stack };
}
