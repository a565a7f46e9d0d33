/**
 * Property-based: every route of the served OpenAPI document, driven with
 * generated path ids, query strings, headers and bodies, valid and hostile,
 * as an anonymous caller, a teller and a customer. Whatever comes in:
 *
 * - no answer is a 5xx;
 * - every answer carries X-Request-Id, and every error is a problem document
 *   (simplejwt's own shape on its routes) with no stack trace or SQL in it;
 * - a refused request leaves the ledger as it was.
 *
 * FUZZ_RUNS sets the number of requests (200 by default: CI stays short).
 */
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { createClient, createCustomer } from './helpers/banking';
import { withTeller } from './helpers/fixture';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string }>;
  bodyFields: string[];
}

const STACK = /\bat \S+ \(?\S+:\d+:\d+\)?/;
const SQL = /\b(select|insert into|update \w+ set|delete from)\b.*\b(from|where|values)\b/i;

describe('fuzzing every route', () => {
  let t: TestApp;
  let operations: Operation[];
  let tokens: Array<string | null>;
  const ids: string[] = [];

  beforeAll(async () => {
    const fixture = await withTeller();
    ({ t } = fixture);
    const { admin, teller, bank } = fixture;
    const client = await createClient(t, teller);
    const customer = await createCustomer(t, admin, client.id);
    const account = await bank.open({ holderIds: [client.id], funding: '100.00' });
    const other = await bank.open({ funding: '5.00' });
    const deposit = await bank.deposit(account.id, '1.00');
    ids.push(client.id, account.id, other.id, deposit.body.id as string);
    tokens = [null, teller, customer];
    const doc = (await t.http.get('/docs-json')).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ name: string; in: string }>;
            requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
          }
        >
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => {
        const ref = op.requestBody?.content['application/json']?.schema.$ref;
        const schema = ref ? doc.components.schemas[ref.split('/').pop()!] : undefined;
        return {
          method,
          path,
          parameters: op.parameters ?? [],
          bodyFields: Object.keys(schema?.properties ?? {}),
        };
      }),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const hostile = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '%00',
      "'; DROP TABLE accounts; --",
      '1e300',
      '-1',
      '0',
      '99999999999999999999',
      'NaN',
      '../../etc/passwd',
      '<script>',
      '\u0130',
      'ＡＢＣ',
      'null',
      '[]',
      '{}',
    ),
    fc.integer().map(String),
    fc.double().map(String),
  );
  const value = fc.oneof(
    hostile,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(hostile, { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), hostile, { maxKeys: 3 }),
  );
  const id = () => fc.oneof(fc.constantFrom(...ids), fc.uuid(), hostile);

  const request = () =>
    fc.record({
      op: fc.nat(),
      caller: fc.nat({ max: 2 }),
      pathIds: fc.array(id(), { minLength: 3, maxLength: 3 }),
      query: fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            'page',
            'limit',
            'cursor',
            'from',
            'to',
            'type',
            'kind',
            'q',
            'lastName',
            'holderId',
            'status',
            'format',
            'accountId',
          ),
          fc.string({ maxLength: 6 }),
        ),
        hostile,
        { maxKeys: 4 },
      ),
      body: fc.oneof(
        fc.constant(undefined),
        fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 }),
        fc.record({ amount: fc.oneof(hostile, fc.double(), fc.integer()), description: hostile }),
        fc.record({ fromAccountId: id(), toAccountId: id(), amount: hostile }),
        fc.constantFrom(
          'not json',
          '{"amount": 1e3}',
          '{"amount": 5.000000001}',
          `${'['.repeat(200)}${']'.repeat(200)}`,
        ),
      ),
      fieldValues: fc.array(value, { minLength: 6, maxLength: 6 }),
      idempotencyKey: fc.option(hostile, { nil: undefined }),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/merge-patch+json',
      ),
    });

  it(`answers ${RUNS} generated requests without a 5xx or a leak, and refused ones move no money`, async () => {
    const db = t.app.get(DataSource);
    const ledger = async () =>
      JSON.stringify(
        await db.query(
          `SELECT (SELECT count(*) FROM operations) AS n, (SELECT coalesce(sum(balance), 0) FROM accounts) AS s`,
        ),
      );
    await fc.assert(
      fc.asyncProperty(request(), async (r) => {
        const op = operations[r.op % operations.length];
        let n = 0;
        const path = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.pathIds[n++ % 3]));
        let body: unknown = r.body;
        if (body === undefined && op.bodyFields.length > 0 && r.op % 2 === 0) {
          body = Object.fromEntries(op.bodyFields.map((f, i) => [f, r.fieldValues[i % 6]]));
        }
        const before = await ledger();
        let req = t.http[op.method as 'get'](path).query(r.query);
        const token = tokens[r.caller];
        if (token) req = req.set(bearer(token));
        if (r.idempotencyKey !== undefined)
          req = req.set('Idempotency-Key', r.idempotencyKey.replace(/[^\x20-\x7e]/g, ''));
        if (body !== undefined && op.method !== 'get') {
          req = req
            .set('Content-Type', r.contentType)
            .send(typeof body === 'string' ? body : JSON.stringify(body));
        }
        const res = await req;
        const where = `${op.method.toUpperCase()} ${path} -> ${res.status} ${res.text.slice(0, 300)}`;
        expect({ where, ok: res.status < 500 }).toEqual({ where, ok: true });
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
        if (res.status >= 400) {
          if (!path.startsWith('/api/token')) {
            expect({ where, type: res.headers['content-type'] }).toEqual({
              where,
              type: expect.stringMatching(/^application\/problem\+json/),
            });
            expect(res.body.requestId).toBe(res.headers['x-request-id']);
          }
          expect({ where, leak: STACK.test(res.text) || SQL.test(res.text) }).toEqual({
            where,
            leak: false,
          });
          expect({ where, ledger: await ledger() }).toEqual({ where, ledger: before });
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 300_000);
});
