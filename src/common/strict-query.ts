import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { getMetadataStorage } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { validationFailed } from './problem';

/** Longest parameter name repeated in an answer: a name is named, not a megabyte of it. */
const MAX_NAME = 64;

/**
 * The query parameters a handler accepts: the properties of its @Query() DTO
 * (what the validation pipe checks and @nestjs/swagger documents), or the
 * names of its @Query('name') parameters; none when it has no @Query().
 */
export function acceptedQueryParameters(controller: object, handler: string): ReadonlySet<string> {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller.constructor, handler) ??
    {}) as Record<string, { index: number; data?: unknown }>;
  const types = (Reflect.getMetadata('design:paramtypes', controller, handler) ?? []) as unknown[];
  const names = new Set<string>();
  for (const [key, arg] of Object.entries(args)) {
    if (key.split(':')[0] !== String(RouteParamtypes.QUERY)) continue;
    if (typeof arg.data === 'string') {
      names.add(arg.data);
      continue;
    }
    const dto = types[arg.index];
    if (typeof dto !== 'function') continue;
    for (const rule of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
      names.add(rule.propertyName);
    }
  }
  return names;
}

/**
 * Every route refuses a query parameter it does not know: 400
 * VALIDATION_FAILED naming it, so a misspelt filter never answers an
 * unfiltered list. Global, after the authentication guard (an anonymous
 * caller still gets 401 first). What each handler accepts is worked out on
 * its first request and kept: a request then costs a map lookup and a walk
 * over its own parameters. Routes outside Nest (/docs) are not concerned.
 */
@Injectable()
export class StrictQueryGuard implements CanActivate {
  private readonly accepted = new WeakMap<object, ReadonlySet<string>>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const query = context.switchToHttp().getRequest<FastifyRequest>().query as
      Record<string, unknown> | undefined;
    if (!query) return true;
    let unknown: string[] | undefined;
    for (const name in query) {
      if (!this.acceptedBy(context).has(name)) (unknown ??= []).push(name.slice(0, MAX_NAME));
    }
    if (!unknown) return true;
    throw validationFailed(
      unknown.map((field) => ({ field, message: `unknown query parameter ${field}` })),
      `Unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
    );
  }

  private acceptedBy(context: ExecutionContext): ReadonlySet<string> {
    const handler = context.getHandler();
    let names = this.accepted.get(handler);
    if (!names) {
      names = acceptedQueryParameters(context.getClass().prototype as object, handler.name);
      this.accepted.set(handler, names);
    }
    return names;
  }
}
