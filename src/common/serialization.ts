import { RouteSchema } from '@nestjs/platform-fastify';

/** The JSON schema of an answer of type T, as fast-json-stringify reads it: every field listed. */
export interface AnswerSchema<T> {
  type: 'object';
  properties: { [K in keyof T]-?: object };
}

/** A string property; `nullable` also allows null (else null would be written as ""). */
export const text = (nullable = false) => ({ type: nullable ? ['string', 'null'] : 'string' });

/** A date property (a Date is written as its ISO 8601 string, as JSON.stringify does). */
export const dateTime = (nullable = false) => ({ ...text(nullable), format: 'date-time' });

/**
 * A 200 answer is written by Fastify's serializer compiled from `schema`
 * (fast-json-stringify) instead of JSON.stringify, which is a visible
 * share of the hottest reads' CPU (bench/README.md). A property the schema does not
 * list is not sent at all, so the OpenAPI test holds each schema to its DTO.
 */
export const SerializedAs = <T>(schema: AnswerSchema<T>) =>
  RouteSchema({ response: { 200: schema } });
