import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { problemCode, recordResponses, ResponseSeries, UNMATCHED } from './http-metrics';

describe('problemCode', () => {
  const problem = (code: string, detail = 'x') =>
    JSON.stringify({ type: 't', title: 'T', status: 422, detail, code, instance: '/' });

  it('reads the code of a problem-details answer, string or buffer', () => {
    expect(problemCode('application/problem+json', problem('INSUFFICIENT_FUNDS'))).toBe(
      'INSUFFICIENT_FUNDS',
    );
    expect(
      problemCode('application/problem+json; charset=utf-8', Buffer.from(problem('NOT_FOUND'))),
    ).toBe('NOT_FOUND');
  });

  it('is not fooled by a detail that quotes a code', () => {
    const body = problem('VALIDATION_FAILED', 'field "code":"INTERNAL" is wrong');
    expect(problemCode('application/problem+json', body)).toBe('VALIDATION_FAILED');
  });

  it('keeps the label to the codes the service defines', () => {
    expect(problemCode('application/problem+json', problem('MADE_UP'))).toBe('UNKNOWN');
    expect(problemCode('application/problem+json', '{"title":"no code"}')).toBe('UNKNOWN');
  });

  it('ignores answers that are not problem details', () => {
    const simpleJwt = '{"detail":"Token is invalid or expired","code":"token_not_valid"}';
    expect(problemCode('application/json; charset=utf-8', simpleJwt)).toBeUndefined();
    expect(problemCode(undefined, problem('NOT_FOUND'))).toBeUndefined();
  });
});

describe('recordResponses', () => {
  let fastify: FastifyInstance;
  let registry: Registry;
  let series: ResponseSeries;

  const problemReply = (status: number, code: string) => ({
    status,
    type: 'application/problem+json',
    body: JSON.stringify({ status, code, detail: 'd' }),
  });

  beforeEach(async () => {
    registry = new Registry();
    const registers = [registry];
    series = {
      duration: new Histogram({
        name: 'd',
        help: 'd',
        labelNames: ['method', 'route', 'status_code', 'outcome'],
        registers,
      }),
      operations: new Counter({ name: 'o', help: 'o', labelNames: ['kind'], registers }),
      refusals: new Counter({ name: 'r', help: 'r', labelNames: ['code'], registers }),
      loginFailures: new Counter({ name: 'lf', help: 'lf', registers }),
      loginsThrottled: new Counter({ name: 'lt', help: 'lt', registers }),
      refreshReuses: new Counter({ name: 'rr', help: 'rr', registers }),
      replays: new Counter({ name: 'rp', help: 'rp', labelNames: ['route'], registers }),
    };
    fastify = Fastify();
    recordResponses(fastify, series);
    // Each route answers what the query asks: ?status=&code= for a problem, &replayed for a replay.
    const answer = (request: FastifyRequest, reply: FastifyReply, success: number) => {
      const q = request.query as { status?: string; code?: string; replayed?: string };
      if (q.replayed !== undefined) void reply.header('idempotent-replayed', 'true');
      if (q.code) {
        const p = problemReply(Number(q.status), q.code);
        return reply.code(p.status).type(p.type).send(p.body);
      }
      return reply.code(Number(q.status ?? success)).send({ ok: true });
    };
    for (const url of [
      '/api/v1/accounts/:id/deposits',
      '/api/v1/accounts/:id/withdrawals',
      '/api/v1/transfers',
      '/api/v1/operations/:id/reverse',
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
    ]) {
      fastify.post(url, (request, reply) => answer(request, reply, 201));
    }
    fastify.get('/api/v1/accounts/:id', (request, reply) => answer(request, reply, 200));
    // simplejwt's login: its errors are plain JSON, not problem details.
    fastify.post('/api/token', (request, reply) => {
      const status = Number((request.query as { status?: string }).status ?? 200);
      return reply.code(status).send({ detail: 'No active account found' });
    });
    await fastify.ready();
  });
  afterEach(() => fastify.close());

  const value = async (counter: Counter<string>, labels: Record<string, string> = {}) => {
    const { values } = await counter.get();
    const match = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  };
  const post = (url: string) => fastify.inject({ method: 'POST', url });

  it('counts each kind of operation made, not a replay nor a refusal', async () => {
    await post('/api/v1/accounts/a1/deposits');
    await post('/api/v1/accounts/a1/withdrawals');
    await post('/api/v1/accounts/a1/withdrawals?status=422&code=INSUFFICIENT_FUNDS');
    await post('/api/v1/transfers');
    await post('/api/v1/transfers?replayed');
    await post('/api/v1/operations/o1/reverse');
    expect(await value(series.operations, { kind: 'deposit' })).toBe(1);
    expect(await value(series.operations, { kind: 'withdrawal' })).toBe(1);
    expect(await value(series.operations, { kind: 'transfer' })).toBe(1);
    expect(await value(series.operations, { kind: 'reversal' })).toBe(1);
    expect(await value(series.replays, { route: '/api/v1/transfers' })).toBe(1);
  });

  it('counts a replayed refusal as a replay and as a refusal, never as an operation', async () => {
    await post('/api/v1/accounts/a1/withdrawals?status=422&code=INSUFFICIENT_FUNDS&replayed');
    expect(await value(series.replays, { route: '/api/v1/accounts/:id/withdrawals' })).toBe(1);
    expect(await value(series.refusals, { code: 'INSUFFICIENT_FUNDS' })).toBe(1);
    expect(await value(series.operations)).toBe(0);
  });

  it('counts login failures and throttled logins on both login routes', async () => {
    await post('/api/v1/auth/login?status=401&code=INVALID_CREDENTIALS');
    await post('/api/token?status=401');
    await post('/api/v1/auth/login?status=429&code=TOO_MANY_REQUESTS');
    await post('/api/token?status=429');
    await post('/api/v1/auth/login?status=400&code=VALIDATION_FAILED');
    await post('/api/token');
    expect(await value(series.loginFailures)).toBe(2);
    expect(await value(series.loginsThrottled)).toBe(2);
    // Without the error filter's code (none here), only a problem-details body gives one.
    expect(await value(series.refusals, { code: 'INVALID_CREDENTIALS' })).toBe(1);
    expect(await value(series.refusals, { code: 'TOO_MANY_REQUESTS' })).toBe(1);
    expect(await value(series.refusals, { code: 'VALIDATION_FAILED' })).toBe(1);
  });

  it('counts refresh-token reuse', async () => {
    await post('/api/v1/auth/refresh?status=401&code=REFRESH_TOKEN_REUSED');
    await post('/api/v1/auth/refresh?status=401&code=TOKEN_INVALID');
    expect(await value(series.refreshReuses)).toBe(1);
    expect(await value(series.refusals, { code: 'TOKEN_INVALID' })).toBe(1);
  });

  it('times requests by route template, never by raw path', async () => {
    await fastify.inject({ method: 'GET', url: '/api/v1/accounts/0b6c4f1a' });
    await fastify.inject({ method: 'GET', url: '/no/such/route/42' });
    const text = await registry.metrics();
    expect(text).toContain(
      'd_count{method="GET",route="/api/v1/accounts/:id",status_code="200",outcome="completed"} 1',
    );
    expect(text).toContain(
      `d_count{method="GET",route="${UNMATCHED}",status_code="404",outcome="completed"} 1`,
    );
    expect(text).not.toContain('0b6c4f1a');
    expect(text).not.toContain('/no/such');
  });
});
