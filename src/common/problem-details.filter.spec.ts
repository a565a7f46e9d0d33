import { Logger } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { MethodRouter } from './method-router';
import { ProblemDetailsFilter } from './problem-details.filter';

/** What the filter sent: status, headers and body, through a stand-in Fastify reply. */
function sendThrough(exception: unknown, client: 'here' | 'gone mid-body' | 'gone' = 'here') {
  const sent: { status?: number; headers: Record<string, string>; body?: unknown } = {
    headers: {},
  };
  const reply = {
    sent: false,
    status(code: number) {
      sent.status = code;
      return reply;
    },
    headers(values: Record<string, string>) {
      Object.assign(sent.headers, values);
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
    raw: {},
  };
  const request = {
    id: 'req-500',
    method: 'GET',
    url: '/api/v1/accounts?x=1',
    routeOptions: { url: '/api/v1/accounts' },
    headers: {},
    raw: { socket: { destroyed: client !== 'here' }, complete: client !== 'gone mid-body' },
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ArgumentsHost;
  new ProblemDetailsFilter(new MethodRouter()).catch(exception, host);
  return sent;
}

describe('ProblemDetailsFilter on unexpected errors', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it.each([
    [
      'an Error with internals in its message',
      new Error('select * from users at Foo.bar (x.ts:1:2)'),
    ],
    [
      'a failed query',
      new QueryFailedError(
        'SELECT secret FROM users',
        [],
        new Error('column "secret" does not exist'),
      ),
    ],
    ['a thrown string', 'boom'],
  ])('%s is a 500 INTERNAL that shows nothing internal, with the request id', (_, error) => {
    const sent = sendThrough(error);
    expect(sent.status).toBe(500);
    expect(sent.headers['content-type']).toBe('application/problem+json');
    const body = sent.body as Record<string, unknown>;
    expect(body).toMatchObject({ status: 500, code: 'INTERNAL', requestId: 'req-500' });
    expect(body.instance).toBe('/api/v1/accounts');
    const text = JSON.stringify(body).toLowerCase();
    for (const leak of ['select', 'secret', 'foo.bar', 'x.ts', 'stack', 'boom', 'column']) {
      expect(text).not.toContain(leak);
    }
  });
});

describe('ProblemDetailsFilter on database refusals', () => {
  it('a value too long for its column (22001) is 400 VALIDATION_FAILED, showing no SQL', () => {
    const tooLong = Object.assign(new Error('value too long for type character varying(300)'), {
      code: '22001',
    });
    const sent = sendThrough(
      new QueryFailedError('INSERT INTO idempotency_keys (route) VALUES ($1)', [], tooLong),
    );
    expect(sent.status).toBe(400);
    const body = sent.body as Record<string, unknown>;
    expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', requestId: 'req-500' });
    const text = JSON.stringify(body).toLowerCase();
    for (const leak of ['insert', 'idempotency_keys', 'varying', '300']) {
      expect(text).not.toContain(leak);
    }
  });
});

/** What `run` logged at warn and error, and what it answered. */
function logged<T>(run: () => T): { lines: string[]; result: T } {
  const lines: string[] = [];
  Logger.overrideLogger({
    log: () => undefined,
    warn: (...args: unknown[]) => lines.push(JSON.stringify(args)),
    error: (...args: unknown[]) => lines.push(JSON.stringify(args)),
  });
  try {
    return { lines, result: run() };
  } finally {
    Logger.overrideLogger(false);
  }
}

describe('ProblemDetailsFilter logs', () => {
  it('an unexpected error with its path, never its query string (search terms, national ids)', () => {
    const { lines } = logged(() => sendThrough(new Error('boom')));
    expect(lines.join('\n')).toContain('GET /api/v1/accounts');
    expect(lines.join('\n')).not.toContain('x=1');
  });
});

describe('ProblemDetailsFilter when the client has gone', () => {
  it('answers nothing and logs no outage for an error its going caused (its body cut short)', () => {
    // What the body parser raises when the client's connection ends mid-body.
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const { lines, result } = logged(() => sendThrough(aborted, 'gone mid-body'));
    expect(result).toEqual({ headers: {} });
    expect(lines).toEqual([]);
  });

  it('logs an error it did not cause as ever: a bug is still a 500 in the log', () => {
    const { lines, result } = logged(() => sendThrough(new Error('boom'), 'gone'));
    expect(result.status).toBe(500);
    expect(lines.join('\n')).toContain('Unhandled error');
  });

  it('answers a client still there: the same error is an outage then (the database went)', () => {
    const sent = sendThrough(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(sent.status).toBe(503);
  });
});
