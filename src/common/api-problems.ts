import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ERROR_CODES, ErrorCode, problemType } from './problem';

/** The example for a status whose description names no code: the first code ERROR_CODES gives it. */
const fallback = (status: number): ErrorCode =>
  (Object.keys(ERROR_CODES) as ErrorCode[]).find((code) => ERROR_CODES[code] === status) ??
  'VALIDATION_FAILED';

/** Every code named in a description, each with its example, for Swagger. */
export function examples(status: number, description: string) {
  const isCode = (c: string): c is ErrorCode =>
    c in ERROR_CODES && ERROR_CODES[c as ErrorCode] === status;
  const named: ErrorCode[] = [];
  for (const word of description.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? [])
    if (isCode(word)) named.push(word);
  const codes: ErrorCode[] = named.length > 0 ? named : [fallback(status)];
  return Object.fromEntries(
    codes.map((code) => [
      code,
      {
        value: {
          type: problemType(code),
          title: STATUS_CODES[status],
          status,
          detail: description.replace(/^[A-Z_]+(, [A-Z_]+)*( or [A-Z_]+)?: /, ''),
          code,
          instance: '/api/v1/…',
          requestId: 'b3c1f0e2-5d7a-4c1e-9f0a-2b8e4d6c8a10',
          ...(code === 'VALIDATION_FAILED' && status === 400
            ? { errors: [{ field: 'field', message: 'what is wrong with it' }] }
            : {}),
        },
      },
    ]),
  );
}

/** Documents problem-details answers: ApiProblems([409, 'CONFLICT: username taken'], ...). */
export function ApiProblems(...entries: Array<[number, string]>) {
  return applyDecorators(
    ...entries.map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: {
          'application/problem+json': {
            schema: { $ref: getSchemaPath('ProblemDetailsDto') },
            examples: examples(status, description),
          },
        },
      }),
    ),
  );
}
