import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

/** Documents problem-details answers: ApiProblems([409, 'Username taken'], [400, '...']). */
export function ApiProblems(...entries: Array<[number, string]>) {
  return applyDecorators(
    ...entries.map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath('ProblemDetailsDto') } },
        },
      }),
    ),
  );
}

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
