import type { FastifyInstance } from 'fastify';
import { inspectJson, MAX_JSON_DEPTH, parseKeepingLongFractions } from '../common/json-body';
import { ApiError, validationFailed } from '../common/problem';
import { EMPTY_NON_JSON_BODY } from '../common/validation';

/** The largest request body, in bytes. */
export const BODY_LIMIT = 100 * 1024;

/**
 * JSON only: anything else with a body is 415. An empty body counts as none
 * whatever its type (axios sends a bodiless POST as a form), so routes that
 * take no body accept it; AppValidationPipe decides for routes that take one.
 */
export function configureBodyParsing(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_request, body, done) => {
      if ((body as Buffer).length === 0) return done(null, EMPTY_NON_JSON_BODY);
      done(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json'));
    },
  );
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(
    /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i,
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      const text = body as string;
      if (text.trim() === '') return done(null, undefined);
      const shape = inspectJson(text);
      if (shape.exponent) {
        return done(
          validationFailed(
            [],
            'Numbers in exponent notation are not accepted; write amounts like "1250.00"',
          ),
          undefined,
        );
      }
      if (shape.depth > MAX_JSON_DEPTH) {
        return done(
          validationFailed([], `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`),
          undefined,
        );
      }
      if (!shape.longFraction) return void parseJson(request, text, done);
      // A double would round the number: its text goes to the field that has to judge it.
      try {
        done(null, parseKeepingLongFractions(text));
      } catch {
        done(validationFailed([], 'The request body is not valid JSON'), undefined);
      }
    },
  );
}
