import Fastify from 'fastify';
import pino from 'pino';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { endEarly } from './common/request-end';
import { logRequests, requestLevel, REDACT } from './logging';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level, redact: REDACT }, stream) };
}

describe('request logging', () => {
  it('picks the level from the status', () => {
    expect([200, 201, 204, 400, 401, 404, 500, 503].map(requestLevel)).toEqual([
      'info',
      'info',
      'info',
      'warn',
      'warn',
      'warn',
      'error',
      'warn',
    ]);
  });

  it('writes one line per request without the query string or credentials', async () => {
    const { lines, logger } = capture('info');
    // The request id is the caller's X-Request-Id here, as app.factory's genReqId makes it.
    const fastify = Fastify({ genReqId: (req) => String(req.headers['x-request-id'] ?? 'new') });
    logRequests(fastify, logger);
    fastify.get('/things', () => ({ ok: true }));
    await fastify.inject({
      url: '/things?search=Lovelace',
      headers: { authorization: 'Bearer secret-token', 'x-request-id': 'r1' },
    });
    await fastify.inject({ url: '/missing' });
    await fastify.close();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'r1', method: 'GET', url: '/things', remoteAddress: '127.0.0.1' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ level: 40, res: { statusCode: 404 } });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('Lovelace');
    expect(text).not.toContain('secret-token');
  });

  it('writes nothing below the configured level', async () => {
    const { lines, logger } = capture('warn');
    const fastify = Fastify();
    logRequests(fastify, logger);
    fastify.get('/ok', () => ({ ok: true }));
    await fastify.inject({ url: '/ok' });
    await fastify.inject({ url: '/missing' });
    await fastify.close();
    expect(lines.map((l) => (l.res as { statusCode: number }).statusCode)).toEqual([404]);
  });
});

it('logs a 500 as an error, "request errored", with its request id', async () => {
  const { lines, logger } = capture('info');
  const fastify = Fastify({ genReqId: () => 'r500' });
  logRequests(fastify, logger);
  fastify.get('/fails', () => {
    throw new Error('broken');
  });
  await fastify.inject({ url: '/fails' });
  await fastify.close();
  expect(lines).toEqual([
    expect.objectContaining({
      level: 50,
      msg: 'request errored',
      req: expect.objectContaining({ id: 'r500' }),
    }),
  ]);
});

describe('requests that end before their answer', () => {
  /** A server whose /stream route writes a chunk, then waits (or fails when told). */
  async function streaming(logger: ReturnType<typeof capture>['logger']) {
    const fastify = Fastify({ genReqId: () => 'r-stream' });
    logRequests(fastify, logger);
    fastify.get('/stream', (request, reply) => {
      const fail = (request.query as { fail?: string }).fail !== undefined;
      const body = new PassThrough();
      body.write('{"part":1');
      if (fail) {
        setTimeout(() => {
          endEarly(reply.raw, 'failed', 'access_ended');
          body.destroy(new Error('stopped'));
        }, 50);
      }
      return reply.send(body);
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address() as AddressInfo;
    return { fastify, port };
  }

  /** Reads the first chunk of GET path, then (unless the server ends it) drops the connection. */
  function firstChunk(port: number, path: string, drop: boolean): Promise<void> {
    return new Promise((done) => {
      const req = get({ host: '127.0.0.1', port, path }, (res) => {
        res.once('data', () => (drop ? req.destroy() : undefined));
        res.on('error', () => undefined);
        res.on('close', () => done());
      });
      req.on('error', () => done());
    });
  }

  it('logs an answer whose client went away mid-stream as aborted', async () => {
    const { lines, logger } = capture('info');
    const { fastify, port } = await streaming(logger);
    await firstChunk(port, '/stream', true);
    await until(() => lines.length > 0);
    await fastify.close();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request aborted',
        outcome: 'aborted',
        reason: 'client_closed',
        req: expect.objectContaining({ id: 'r-stream', url: '/stream' }),
        res: { statusCode: 200 },
      }),
    ]);
  });

  it('logs an answer the service ended early as failed, with its reason, as a warning', async () => {
    const { lines, logger } = capture('info');
    const { fastify, port } = await streaming(logger);
    await firstChunk(port, '/stream?fail', false);
    await until(() => lines.length > 0);
    await fastify.close();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'request failed',
        outcome: 'failed',
        reason: 'access_ended',
      }),
    ]);
  });
});

/** Waits (at most 5 s) for `done` to hold. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}
