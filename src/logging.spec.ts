import Fastify from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
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
