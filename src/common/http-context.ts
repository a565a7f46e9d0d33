import type { ArgumentsHost } from '@nestjs/common';

/**
 * The HTTP request of a guard's or parameter decorator's context: what
 * `switchToHttp().getRequest()` answers, without the three closures
 * switchToHttp() makes at every call (several times per request on the
 * authenticated routes).
 */
export const requestOf = <T = unknown>(context: ArgumentsHost): T => context.getArgByIndex<T>(0);
