import { HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/**
 * Every error code the service answers, with its HTTP status and what it
 * means: the one list. ERROR_CODES, the OpenAPI enum of `code` and the API
 * guide's table of error codes (written by `npm run docs:errors`, checked by
 * the tests) all come from it.
 */
export const ERRORS = {
  VALIDATION_FAILED: {
    status: 400,
    meaning:
      'The request is not valid: a field or query parameter (see `errors`), a malformed id or body, a foreign or altered cursor.',
  },
  UNAUTHENTICATED: {
    status: 401,
    meaning: 'No bearer access token was sent.',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    meaning: 'Login refused: the username or password is wrong.',
  },
  TOKEN_EXPIRED: {
    status: 401,
    meaning:
      'The access token has expired, or is older than `ACCESS_TOKEN_TTL`: refresh, then retry.',
  },
  TOKEN_INVALID: {
    status: 401,
    meaning:
      'The token is not valid (signature, claims, an ended session, a disabled user): log in again.',
  },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    meaning: 'A refresh token was used a second time: the session is revoked; log in again.',
  },
  FORBIDDEN: {
    status: 403,
    meaning: "The caller's role may not do this.",
  },
  WRONG_PASSWORD: {
    status: 403,
    meaning: 'The current password given to change the password is wrong.',
  },
  NOT_FOUND: {
    status: 404,
    meaning: 'No such resource, one the caller may not see, or no such route.',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    meaning:
      'The path exists, but not with this method; the `Allow` header lists the methods it takes.',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    meaning:
      "The request's headers and body did not arrive within `REQUEST_TIMEOUT`; the connection is closed.",
  },
  CONFLICT: {
    status: 409,
    meaning:
      'The change conflicts with what exists: a username or national id taken, the last active admin, a client a customer login is linked to, a concurrent change (retry).',
  },
  CLIENT_HAS_ACCOUNTS: {
    status: 409,
    meaning: 'The client holds an account, open or closed, and cannot be deleted.',
  },
  LAST_HOLDER: {
    status: 409,
    meaning: 'An account keeps at least one holder.',
  },
  BALANCE_NOT_ZERO: {
    status: 409,
    meaning: 'An account closes only at `0.00`.',
  },
  ACCOUNT_NOT_ACTIVE: {
    status: 409,
    meaning: 'The account is frozen or closed, and its status does not allow this.',
  },
  ALREADY_REVERSED: {
    status: 409,
    meaning: 'The operation (or the transfer it belongs to) has already been reversed.',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    meaning: 'A request with this `Idempotency-Key` is still running: wait, then retry.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    meaning: 'The body is over 100 KiB.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: 'The body is not `application/json`.',
  },
  INSUFFICIENT_FUNDS: {
    status: 422,
    meaning: 'The amount is beyond the balance plus the overdraft limit.',
  },
  CURRENCY_MISMATCH: {
    status: 422,
    meaning: 'A transfer between accounts of two currencies.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    meaning:
      'This `Idempotency-Key` was used with another body or route: use a new key for a new request.',
  },
  PAYEE_UNAVAILABLE: {
    status: 422,
    meaning:
      "A customer's payee account does not exist, is not active or has another currency (one answer for all three).",
  },
  UNKNOWN_ACCOUNT_NUMBER: {
    status: 422,
    meaning:
      '`toAccountNumber` is well formed but names no account (staff; a customer paying someone else gets `PAYEE_UNAVAILABLE`).',
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    meaning:
      'Too many failed logins or password checks, statements at once, or verifications of payee in an hour: wait `Retry-After` seconds.',
  },
  INTERNAL: {
    status: 500,
    meaning: 'An unexpected error; nothing internal is shown: quote the request id.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    meaning: 'The database cannot be reached right now: retry after `Retry-After` seconds.',
  },
} as const satisfies Record<string, { status: HttpStatus; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Each code's HTTP status. */
export const ERROR_CODES = Object.fromEntries(
  Object.entries(ERRORS).map(([code, { status }]) => [code, status]),
) as { readonly [C in ErrorCode]: (typeof ERRORS)[C]['status'] };

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
