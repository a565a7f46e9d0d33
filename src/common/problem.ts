import { HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  REFRESH_TOKEN_REUSED: 401,
  FORBIDDEN: 403,
  WRONG_PASSWORD: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  CLIENT_HAS_ACCOUNTS: 409,
  LAST_HOLDER: 409,
  BALANCE_NOT_ZERO: 409,
  ACCOUNT_NOT_ACTIVE: 409,
  ALREADY_REVERSED: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INSUFFICIENT_FUNDS: 422,
  CURRENCY_MISMATCH: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYEE_UNAVAILABLE: 422,
  UNKNOWN_ACCOUNT_NUMBER: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, HttpStatus>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  requestId: string;
  errors?: FieldError[];
}

/**
 * The one exception services throw for an expected failure. The global filter
 * turns it into problem details; nothing else needs to know HTTP.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found`);

export const validationFailed = (errors: FieldError[], detail = 'The request is not valid') =>
  new ApiError('VALIDATION_FAILED', detail, { errors });

export function problemType(code: ErrorCode): string {
  return `urn:problem-type:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** The one builder of problem-details bodies: for the filter and for stored idempotent answers. */
export function problemBody(
  problem: { code: ErrorCode; detail: string; errors?: FieldError[] },
  instance: string,
  requestId: string,
): ProblemDetails {
  const status = ERROR_CODES[problem.code];
  return {
    type: problemType(problem.code),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: problem.detail,
    code: problem.code,
    instance,
    requestId,
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
  };
}
