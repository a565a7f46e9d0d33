import type { ServerResponse } from 'node:http';
import { pipeline, Writable } from 'node:stream';
import { StatementStopped, StatementStream } from './operations-query.service';
import { statementAnswer } from './statement-answer';

/** A response that takes what it is given only when `take()` lets it. */
function response() {
  const pending: Array<() => void> = [];
  const written: string[] = [];
  const res = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      pending.push(done);
    },
  });
  const take = () => pending.splice(0).forEach((done) => done());
  return { res: res as unknown as ServerResponse & Writable, written, take };
}

function statement(chunks: AsyncIterable<string>) {
  const release = jest.fn(() => Promise.resolve());
  const s: StatementStream = {
    account: {} as StatementStream['account'],
    from: '2026-01-01',
    to: '2026-01-31',
    chunks,
    release,
  };
  return { s, release };
}

async function* parts(n: number, stop?: () => boolean) {
  for (let i = 0; i < n; i++) {
    if (stop?.()) throw new StatementStopped();
    yield `part ${i};`;
  }
}

const tick = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('statementAnswer', () => {
  it('cuts off a reader that takes nothing for the idle time, and frees its slot', async () => {
    const { res } = response();
    const { s, release } = statement(parts(100));
    const done = new Promise<unknown>((resolve) =>
      pipeline(statementAnswer(res, s, 0.1, 'r1'), res, resolve),
    );
    await tick(400);
    expect(res.destroyed).toBe(true);
    expect(await done).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('never cuts off a reader that keeps taking, however long the whole takes', async () => {
    const { res, written, take } = response();
    const { s, release } = statement(parts(8));
    const done = new Promise<unknown>((resolve) =>
      pipeline(statementAnswer(res, s, 0.1, 'r2'), res, resolve),
    );
    for (let i = 0; i < 10; i++) {
      await tick(60);
      take();
    }
    // The pipeline ends without an error: the answer was written out whole.
    expect(await done).toBeUndefined();
    expect(written.join('')).toBe(Array.from({ length: 8 }, (_, i) => `part ${i};`).join(''));
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('frees the slot at once when the client left before the answer started', async () => {
    const { res } = response();
    res.destroy();
    const { s, release } = statement(parts(3));
    statementAnswer(res, s, 30, 'r3');
    await tick(20);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('ends a statement that stops early without its end: the response is destroyed', async () => {
    const { res, take } = response();
    let stopped = false;
    const { s, release } = statement(parts(10, () => stopped));
    const failed = new Promise<unknown>((resolve) =>
      pipeline(statementAnswer(res, s, 30, 'r4'), res, resolve),
    );
    take();
    stopped = true;
    for (let i = 0; i < 5; i++) {
      await tick(10);
      take();
    }
    expect(await failed).toBeInstanceOf(StatementStopped);
    expect(res.destroyed).toBe(true);
    expect(release).toHaveBeenCalledTimes(1);
  });
});
