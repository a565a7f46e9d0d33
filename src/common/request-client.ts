import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';

/** Who is calling, as far as the network says: what a new session records. */
export interface RequestClient {
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
export function clientAddress(request: FastifyRequest): string {
  const ip = request.ip;
  if (isIP(ip) !== 0 && !ip.includes('%')) return ip;
  return request.socket.remoteAddress ?? '';
}

/** The caller's address (see clientAddress) and user agent. */
export const ReqClient = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RequestClient => {
    const request = ctx.switchToHttp().getRequest<FastifyRequest>();
    return { ip: clientAddress(request), userAgent: request.headers['user-agent'] };
  },
);
