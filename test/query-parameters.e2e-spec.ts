import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { TestApp, bearer } from './helpers/app';
import { expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

interface Parameter {
  name: string;
  in: string;
}
type Paths = Record<string, Record<string, { parameters?: Parameter[] }>>;

/**
 * The fields a 400 names: problem details' errors, or the field-keyed body
 * of the simplejwt routes (`{ "name": ["message"] }`, as Django answers).
 */
const named = (res: Response): string[] =>
  res.body.errors
    ? (res.body.errors as Array<{ field: string }>).map((e) => e.field)
    : Object.keys(res.body as object).filter((key) => Array.isArray(res.body[key]));

/** A misspelt filter is 400 naming it, never an unfiltered list: on every route. */
describe('unknown query parameters', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let accountId: string;

  beforeAll(async () => {
    let bank;
    ({ t, admin, teller, bank } = await withTeller());
    accountId = (await bank.open({ funding: '10.00' })).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['/api/v1/auth/me?foo=1', 'foo'],
    [`/api/v1/accounts/{account}?x=1`, 'x'],
    [`/api/v1/operations?transferId=${randomUUID()}`, 'transferId'],
    ['/api/v1/accounts?limit=5&staus=active', 'staus'],
    [`/api/v1/accounts/{account}/operations?cursr=abc`, 'cursr'],
    ['/api/v1/users?rol=teller', 'rol'],
    ['/health?verbose=1', 'verbose'],
  ])('GET %s is 400 VALIDATION_FAILED naming %s', async (path, name) => {
    const res = await t.http.get(path.replace('{account}', accountId)).set(bearer(admin));
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([{ field: name, message: `unknown query parameter ${name}` }]);
    expect(res.body.detail).toContain(name);
  });

  it('names every unknown parameter, and only those', async () => {
    const res = await t.http.get('/api/v1/accounts?limit=5&a=1&b=2').set(bearer(teller));
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(named(res)).toEqual(['a', 'b']);
  });

  it('changes nothing: a POST with an unknown parameter moves no money', async () => {
    const res = await t.http
      .post(`/api/v1/accounts/${accountId}/deposits?dryRun=1`)
      .set(bearer(teller))
      .send({ amount: '5.00' });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(named(res)).toEqual(['dryRun']);
    const account = await t.http.get(`/api/v1/accounts/${accountId}`).set(bearer(teller));
    expect(account.body.balance).toBe('10.00');
  });

  it('checks the caller first: without a token it is 401', async () => {
    const res = await t.http.get('/api/v1/auth/me?foo=1');
    expectProblem(res, 401, 'UNAUTHENTICATED');
  });

  it('leaves the documentation alone', async () => {
    expect((await t.http.get('/docs-json?foo=1')).status).toBe(200);
  });

  it('every operation refuses an unknown parameter and accepts each one it documents', async () => {
    const paths = (await t.http.get('/docs-json')).body.paths as Paths;
    let checked = 0;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const url = path.replace(/\{[^}]+\}/g, randomUUID());
        const call = (query: string) =>
          t.http[method as 'get' | 'post' | 'patch' | 'delete'](`${url}?${query}`).set(
            bearer(admin),
          );
        const name = `${method.toUpperCase()} ${path}`;
        const refused = await call('zzUnknown=1');
        expect({ name, status: refused.status, fields: named(refused) }).toEqual({
          name,
          status: 400,
          fields: ['zzUnknown'],
        });
        for (const p of operation.parameters ?? []) {
          if (p.in !== 'query') continue;
          // Any value: it may be refused as a bad value, never as an unknown parameter.
          const res = await call(`${encodeURIComponent(p.name)}=1`);
          const unknown = JSON.stringify(res.body).includes('unknown query parameter')
            ? named(res)
            : [];
          expect({ name, parameter: p.name, unknown }).toEqual({
            name,
            parameter: p.name,
            unknown: [],
          });
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
