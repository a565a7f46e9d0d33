import Fastify, { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { Role } from '../../identity/role';
import { Caller } from '../caller';
import { refuseUncheckedSessions } from './fail-closed';

/** A @SessionInQuery() route's answer, with its caller as the handler left it. */
function app(answer: (request: FastifyRequest & { user?: unknown }) => unknown): FastifyInstance {
  const fastify = Fastify();
  refuseUncheckedSessions(fastify);
  fastify.get('/accounts/:id', (request) => answer(request));
  return fastify;
}

const teller = {
  id: 'u1',
  username: 'teller',
  role: Role.Teller,
  clientId: null,
  sessionId: 's1',
};

describe('a @SessionInQuery() route that forgot to check the session', () => {
  it('answers 500 problem details instead of what it would have sent', async () => {
    const fastify = app((request) => {
      request.user = new Caller('u1', 's1');
      return { balance: '1000.00' };
    });
    const res = await fastify.inject({ url: '/accounts/a?x=1' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json()).toEqual(
      expect.objectContaining({ status: 500, code: 'INTERNAL', instance: '/accounts/a' }),
    );
    expect(res.body).not.toContain('1000.00');
    await fastify.close();
  });

  it('never starts a stream it returned', async () => {
    const stream = Readable.from(['date,amount\r\n', '2026-01-01,5.00\r\n']);
    const fastify = app((request) => {
      request.user = new Caller('u1', 's1');
      return stream;
    });
    const res = await fastify.inject({ url: '/accounts/a' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('5.00');
    expect(stream.destroyed).toBe(true);
    await fastify.close();
  });

  it('lets through an answer whose session was checked, and every refusal', async () => {
    const checked = app((request) => {
      const caller = new Caller('u1', 's1');
      caller.accept(teller);
      request.user = caller;
      return { balance: '1000.00' };
    });
    const ok = await checked.inject({ url: '/accounts/a' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ balance: '1000.00' });
    await checked.close();

    // A refusal before the statement ran is the exception filter's, which checks the session.
    const refused = app((request) => {
      request.user = new Caller('u1', 's1');
      const error = Object.assign(new Error('Account not found'), { statusCode: 404 });
      throw error;
    });
    expect((await refused.inject({ url: '/accounts/a' })).statusCode).toBe(404);
    await refused.close();
  });
});
