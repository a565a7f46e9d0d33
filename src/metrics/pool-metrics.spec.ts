import { EventEmitter } from 'node:events';
import type { PoolClient } from 'pg';
import { Histogram, Registry } from 'prom-client';
import { timeQueries } from './pool-metrics';

/** A stand-in for a pg client: query() answers as pg does, by callback, promise or submittable. */
function fakeClient() {
  const client = {
    query(...args: unknown[]): unknown {
      const last = args[args.length - 1];
      const text = args[0];
      if (typeof last === 'function') {
        setImmediate(() => (last as (e: unknown, r: unknown) => void)(null, { rows: [text] }));
        return undefined;
      }
      if (text instanceof EventEmitter) return text;
      if (text === 'fail') return Promise.reject(new Error('syntax error'));
      return Promise.resolve({ rows: [text] });
    },
  };
  return client as unknown as PoolClient & { query(...args: unknown[]): unknown };
}

describe('timeQueries', () => {
  let histogram: Histogram;
  const observed = async () =>
    (await histogram.get()).values.find((v) => v.metricName === 'q_count')!.value;

  beforeEach(() => {
    histogram = new Histogram({ name: 'q', help: 'q', registers: [new Registry()] });
  });

  it('times a query answered through a callback, and hands the callback its result', async () => {
    const client = fakeClient();
    timeQueries(client, histogram);
    const rows = await new Promise((done) =>
      client.query('SELECT 1', [], (_e: unknown, r: { rows: unknown[] }) => done(r.rows)),
    );
    expect(rows).toEqual(['SELECT 1']);
    expect(await observed()).toBe(1);
  });

  it('times promised queries, failed ones included, and leaves their outcome to the caller', async () => {
    const client = fakeClient();
    timeQueries(client, histogram);
    await expect(client.query('SELECT 2')).resolves.toEqual({ rows: ['SELECT 2'] });
    await expect(client.query('fail')).rejects.toThrow('syntax error');
    expect(await observed()).toBe(2);
  });

  it('times a submittable (a stream) until it ends, and leaves its errors to its caller', async () => {
    const client = fakeClient();
    timeQueries(client, histogram);
    const stream = new EventEmitter();
    expect(client.query(stream)).toBe(stream);
    expect(await observed()).toBe(0);
    stream.emit('end');
    expect(await observed()).toBe(1);
    const failing = new EventEmitter();
    client.query(failing);
    expect(() => failing.emit('error', new Error('unhandled'))).toThrow('unhandled');
  });

  it('wraps a client once, however often the pool hands it out', async () => {
    const client = fakeClient();
    timeQueries(client, histogram);
    timeQueries(client, histogram);
    await client.query('SELECT 3');
    expect(await observed()).toBe(1);
  });
});
