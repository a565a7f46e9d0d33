import { applyDecorators, SetMetadata, UseFilters } from '@nestjs/common';
import { SESSION_IN_QUERY } from '../caller';
import { SessionFirstFilter } from './session-first.filter';

/**
 * The route's own statement checks the caller's session (see meCte in
 * caller.ts); until it has, errors check it first (SessionFirstFilter).
 */
export const SessionInQuery = () =>
  applyDecorators(SetMetadata(SESSION_IN_QUERY, true), UseFilters(SessionFirstFilter));
