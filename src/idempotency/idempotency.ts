import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Caller, AuthUser } from '../auth';
import { validationFailed } from '../common/problem';
import { pathOf } from '../common/request-path';

/** What a money POST knows about its Idempotency-Key, if it has one. */
export interface IdempotencyRequest {
  key: string | null;
  userId: string;
  /** Method and route (keyRoute): the same key on another route is a reuse. */
  route: string;
  /** SHA-256 of the route and the body as sent (keys sorted). */
  hash: Buffer;
  requestId: string;
}

/** The stored first answer to an Idempotency-Key, returned again (see ReplayInterceptor). */
export class Replay {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string,
  ) {}

  /** Only ReplayInterceptor sends a Replay: a route without @Idempotent() fails, loudly. */
  toJSON(): never {
    throw new Error('A Replay was returned by a route without @Idempotent()');
  }
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The route a key is bound to: the method and the route's template with the
 * path parameters as the router parsed them, never the request target's own
 * text, which in absolute form (`POST http://<any host>/api/v1/transfers`)
 * carries a host of any length. A key is stored only once the request has
 * passed validation, when an :id is a UUID. For an origin-form target this is
 * its path as sent, trailing slash and letter case included, so keys stored
 * when the route was that path still match.
 */
function keyRoute(request: FastifyRequest): string {
  const params = request.params as Record<string, string>;
  const path = (request.routeOptions.url ?? '').replace(
    /:(\w+)/g,
    (_, name: string) => params[name] ?? '',
  );
  const slash = !path.endsWith('/') && pathOf(request.url).endsWith('/') ? '/' : '';
  return `${request.method} ${path}${slash}`;
}

export const Idempotency = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): IdempotencyRequest => {
    const request = ctx.switchToHttp().getRequest<FastifyRequest & { user: AuthUser | Caller }>();
    const userId = request.user instanceof Caller ? request.user.userId : request.user.id;
    const header = request.headers['idempotency-key'];
    const route = keyRoute(request);
    const base = { userId, route, requestId: String(request.id) };
    if (header === undefined) return { ...base, key: null, hash: Buffer.alloc(0) };
    if (typeof header !== 'string' || header.length < 1 || header.length > 255) {
      throw validationFailed([
        { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 255 characters' },
      ]);
    }
    const hash = createHash('sha256')
      .update(`${route}\n${canonicalJson(request.body ?? null)}`)
      .digest();
    return { ...base, key: header, hash };
  },
);
