import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';

/**
 * How a request ended: `completed` (its answer was written out whole),
 * `aborted` (the client went away, or stopped reading and was cut off) or
 * `failed` (the service ended the answer early: an error or an ended right
 * mid-stream).
 */
export type Outcome = 'completed' | 'aborted' | 'failed';

export interface RequestEnd {
  outcome: Outcome;
  /** Why an answer ended early: client_closed, idle_timeout, access_ended, error. */
  reason?: string;
}

export type EndListener = (request: FastifyRequest, reply: FastifyReply, end: RequestEnd) => void;

const REPLY = Symbol('the Fastify reply of this response');
const ENDED_EARLY = Symbol('why the service is ending this answer early');
const REPORTED = Symbol('the end of this request has been reported');

type Tracked = ServerResponse & {
  [REPLY]?: FastifyReply;
  [ENDED_EARLY]?: RequestEnd;
};
type Reported = FastifyReply & { [REPORTED]?: true };

const listeners = new WeakMap<FastifyInstance, EndListener[]>();

/**
 * Records why the service is about to end an answer before its end (then
 * it destroys the response). Without such a mark, an answer that ends early
 * was ended by its client.
 */
export function endEarly(res: ServerResponse, outcome: 'aborted' | 'failed', reason: string): void {
  (res as Tracked)[ENDED_EARLY] ??= { outcome, reason };
}

/**
 * Calls `listener` once for every request, however it ends. Fastify's
 * onResponse runs only for answers written out whole; an answer whose
 * connection closed first (a client that went away, a stream cut off) is
 * seen by its response's 'close' event instead.
 */
export function onRequestEnd(fastify: FastifyInstance, listener: EndListener): void {
  const registered = listeners.get(fastify);
  if (registered) {
    registered.push(listener);
    return;
  }
  const all = [listener];
  listeners.set(fastify, all);
  const report = (request: FastifyRequest, reply: Reported, end: RequestEnd) => {
    if (reply[REPORTED]) return;
    reply[REPORTED] = true;
    for (const l of all) l(request, reply, end);
  };
  // One shared function, with the reply on the response: no closure per request.
  function onClose(this: Tracked): void {
    const reply = this[REPLY];
    if (!reply || this.writableFinished) return;
    report(
      reply.request,
      reply,
      this[ENDED_EARLY] ?? { outcome: 'aborted', reason: 'client_closed' },
    );
  }
  fastify.addHook('onRequest', (_request, reply, done) => {
    const res = reply.raw as Tracked;
    res[REPLY] = reply;
    res.on('close', onClose);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    report(request, reply, { outcome: 'completed' });
    done();
  });
}

/** Whether the client of this request has gone: nothing can be answered to it. */
export function clientGone(request: FastifyRequest): boolean {
  const socket = request.raw.socket as FastifyRequest['raw']['socket'] | null;
  return !socket || socket.destroyed;
}
