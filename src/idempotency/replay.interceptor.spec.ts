import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import { Replay } from './idempotency';
import { ReplayInterceptor } from './replay.interceptor';

/** A stand-in Fastify reply: what the interceptor set on it, and its serializer. */
function fakeReply() {
  const reply = {
    status: 201,
    headers: {} as Record<string, string>,
    serialize: undefined as ((payload: unknown) => string) | undefined,
    header(name: string, value: string) {
      reply.headers[name] = value;
      return reply;
    },
    code(status: number) {
      reply.status = status;
      return reply;
    },
    serializer(fn: (payload: unknown) => string) {
      reply.serialize = fn;
      return reply;
    },
  };
  return reply;
}

async function intercept(result: unknown) {
  const reply = fakeReply();
  const context = {
    switchToHttp: () => ({ getResponse: () => reply }),
  } as unknown as ExecutionContext;
  const next: CallHandler = { handle: () => of(result) };
  const sent = await lastValueFrom(new ReplayInterceptor().intercept(context, next));
  return { reply, sent };
}

describe('ReplayInterceptor', () => {
  it('sends a Replay as first sent: stored status, type with its charset, body text, marked', async () => {
    const stored = '{"type":"x","status":422,"code":"INSUFFICIENT_FUNDS"}';
    const replay = new Replay(422, 'application/problem+json', stored);
    const { reply, sent } = await intercept(replay);
    expect(reply.headers).toEqual({
      'content-type': 'application/problem+json; charset=utf-8',
      'idempotent-replayed': 'true',
    });
    // Nest sets the route's 201 after the interceptor; serializing sets the stored status last.
    expect(reply.serialize!(sent)).toBe(stored);
    expect(reply.status).toBe(422);
  });

  it('keeps a stored charset, and serializes anything sent after the replay as usual', async () => {
    const replay = new Replay(201, 'application/json; charset=utf-8', '{"id":"a"}');
    const { reply, sent } = await intercept(replay);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.serialize!(sent)).toBe('{"id":"a"}');
    const problem = { status: 500, code: 'INTERNAL' };
    expect(reply.serialize!(problem)).toBe(JSON.stringify(problem));
    // Once: the stored answer is never sent a second time on this reply.
    expect(() => reply.serialize!(sent)).toThrow(/@Idempotent/);
  });

  it('passes any other answer through untouched', async () => {
    const answer = { id: 'op-1', amount: '10.00' };
    const { reply, sent } = await intercept(answer);
    expect(sent).toBe(answer);
    expect(reply.headers).toEqual({});
    expect(reply.serialize).toBeUndefined();
  });

  it('a Replay that reaches a route without @Idempotent() fails instead of answering its fields', () => {
    expect(() => JSON.stringify(new Replay(201, 'application/json', '{}'))).toThrow(/@Idempotent/);
  });
});
