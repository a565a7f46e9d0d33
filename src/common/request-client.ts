import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling, as far as the network says: what a new session records. */
export interface RequestClient {
  ip: string;
  userAgent?: string;
}

/** The caller's address (from the socket, or a trusted proxy) and user agent. */
export const ReqClient = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): RequestClient => {
    const request = ctx.switchToHttp().getRequest<FastifyRequest>();
    return { ip: request.ip, userAgent: request.headers['user-agent'] };
  },
);
