import type { Response } from 'supertest';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every check of a problem answer except that its body's requestId is this response's X-Request-Id. */
function expectProblemShape(
  res: Response,
  status: number,
  code: string,
  instance: string | undefined,
): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code,
      instance: expect.any(String),
      requestId: expect.any(String),
    }),
  );
  expect(res.body.type.length).toBeGreaterThan(0);
  expect(res.body.title.length).toBeGreaterThan(0);
  if (instance !== undefined) expect(res.body.instance).toBe(instance);
  expect(res.headers['x-request-id']).toBeTruthy();
}

/**
 * An RFC 9457 problem-details answer, as docs/api-guide.md describes it:
 * every member present, type and title non-empty, the requestId in the body
 * equal to the X-Request-Id header, and (when given) `instance` exactly the
 * request path.
 */
export function expectProblem(
  res: Response,
  status: number,
  code: string,
  instance?: string,
): void {
  expectProblemShape(res, status, code, instance);
  expect(res.body.requestId).toBe(res.headers['x-request-id']);
}

/**
 * A problem answer replayed for an Idempotency-Key: the API makes a replay the
 * first response again ("same status and body"), so its body keeps the first
 * request's requestId while its own X-Request-Id is new. Every other check of
 * expectProblem still applies; the spec's replay check compares the whole
 * body with the first answer's.
 */
export function expectReplayedProblem(res: Response, status: number, code: string): void {
  expect(res.headers['idempotent-replayed']).toBe('true');
  expectProblemShape(res, status, code, undefined);
}

/** A 400 VALIDATION_FAILED problem whose errors name `field`. */
export function expectFieldError(res: Response, field: string): void {
  expectProblem(res, 400, 'VALIDATION_FAILED');
  expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
}
