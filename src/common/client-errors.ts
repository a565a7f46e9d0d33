import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, problemBody } from './problem';
import { requestIdFrom } from './request-id';
import { endEarly } from './request-end';
import { securityHeaders } from './security-headers';

const HEADERS = securityHeaders();

/**
 * The answers the HTTP layer makes before any route runs: Node's parser
 * (bad framing, oversized headers, a request that took too long to arrive),
 * Fastify's router (a path it cannot decode, a parameter over its length)
 * and an Expect header nobody can meet. Each is problem details with a
 * request id and the security headers, like every other error, and echoes
 * nothing of the request: its instance is "/", its detail a fixed sentence.
 */
interface EarlyAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function earlyAnswer(
  status: number,
  detail: string,
  requestId: string,
  code: ErrorCode = 'VALIDATION_FAILED',
): EarlyAnswer {
  const body = JSON.stringify({
    ...problemBody({ code, detail }, '/', requestId),
    status,
    title: STATUS_CODES[status],
  });
  return {
    status,
    body,
    headers: {
      ...HEADERS,
      'content-type': 'application/problem+json',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-request-id': requestId,
      connection: 'close',
    },
  };
}

/** Node's parser codes, and what each answers. */
function fromParser(code: string | undefined): [number, string, ErrorCode?] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'The request headers are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'The request did not arrive in time', 'REQUEST_TIMEOUT'];
    default:
      return [400, 'The request is not valid HTTP (its framing or its request line)'];
  }
}

/**
 * Answers a request that Node's HTTP parser refused before Fastify saw it
 * (an oversized header, Content-Length with Transfer-Encoding, a broken
 * request line, headers and body that did not arrive within
 * REQUEST_TIMEOUT), then closes the connection.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, detail, code] = fromParser(error.code);
  // A request whose body was still arriving has a response that will never be sent: its log
  // line says what happened. (_httpMessage: Node's response of the socket's current request.)
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending?.headersSent) {
    // An answer is already on its way (a pipelined request timed out behind a statement):
    // no second status line inside its body, the connection just ends.
    endEarly(pending, 'aborted', status === 408 ? 'request_timeout' : 'bad_request');
    socket.destroy();
    return;
  }
  if (pending) {
    pending.statusCode = status;
    endEarly(pending, 'aborted', status === 408 ? 'request_timeout' : 'bad_request');
  }
  const answer = earlyAnswer(status, detail, randomUUID(), code);
  const head = Object.entries(answer.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n\r\n${answer.body}`);
}

/** Writes an early answer on a response Node has made, and closes the connection. */
function send(res: ServerResponse, answer: EarlyAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

/**
 * Fastify's framework errors (its `frameworkErrors` option): a URL it cannot
 * decode (400) and a path parameter over the router's maxParamLength (414).
 * Its own answers are JSON that repeats the path.
 */
export function answerFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const [status, detail] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'The request path is too long']
      : [400, 'The request path is not a valid URL'];
  send(reply.raw, earlyAnswer(status, detail, String(request.id)));
}

/**
 * An HTTP/1.1 request without Host (Node's own answer to it is a bare 400):
 * answered from the onRequest hook, before anything reads the request.
 */
export function answerMissingHost(request: FastifyRequest, reply: FastifyReply): void {
  void reply.hijack();
  send(reply.raw, earlyAnswer(400, 'An HTTP/1.1 request needs a Host header', String(request.id)));
}

/**
 * An Expect header other than 100-continue (Node's 'checkExpectation'):
 * 417, instead of Node's bare answer.
 */
export function answerExpectation(request: IncomingMessage, res: ServerResponse): void {
  const detail = 'The Expect header cannot be met; send the request without it';
  send(res, earlyAnswer(417, detail, requestIdFrom(request.headers['x-request-id'])));
}
