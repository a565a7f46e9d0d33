import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';

/** Where a request comes from, as far as the network says (address and user agent): what a new session records. Not a bank client. */
export interface RequestOrigin {
  ip: string;
  userAgent?: string;
}

/**
 * The caller's address: the socket's, or the one a proxy that TRUST_PROXY
 * believes wrote in X-Forwarded-For. A header's value that is not an IP
 * address is ignored for the socket's: a caller picks the header's text.
 * So is one with an IPv6 zone (`fe80::1%eth0`), which names an interface of
 * the machine that wrote it and may be of any length.
 */
export function callerAddress(request: FastifyRequest): string {
  const ip = request.ip;
  if (isIP(ip) !== 0 && !ip.includes('%')) return ip;
  return request.socket.remoteAddress ?? '';
}

/** The caller's address (see callerAddress) and user agent. */
export const ReqOrigin = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RequestOrigin => {
    const request = ctx.switchToHttp().getRequest<FastifyRequest>();
    return { ip: callerAddress(request), userAgent: request.headers['user-agent'] };
  },
);
