import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { problemBody } from './problem';
import { securityHeaders } from './security-headers';

const HEADERS = securityHeaders();

/**
 * Answers a request that Node's HTTP parser refused before Fastify saw it (an
 * oversized header, Content-Length with Transfer-Encoding, a broken request
 * line) as every other error is answered: problem details with a request id
 * and the security headers, then the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive']
        : [400, 'The request is not valid HTTP (its framing or its request line)'];
  const body = JSON.stringify({
    ...problemBody({ code: 'VALIDATION_FAILED', detail }, '/', requestId),
    status,
    title: STATUS_CODES[status],
  });
  const headers = {
    ...HEADERS,
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-request-id': requestId,
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n\r\n${body}`);
}
