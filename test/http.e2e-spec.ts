import { randomUUID } from 'node:crypto';
import { connect, isIP, Socket } from 'node:net';
import type { Response } from 'supertest';
import { ADMIN_PASSWORD, TestApp, USER_PASSWORD, bearer, freshAddress } from './helpers/app';
import { expectProblem } from './helpers/expect';
import { until } from './helpers/service';

interface OpenApiOperation {
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

/** The methods listed in an Allow header. */
function allowed(res: Response): string[] {
  const header = res.headers['allow'];
  expect(typeof header).toBe('string');
  return String(header)
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
}

describe('HTTP conventions', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('problem details', () => {
    it('a validation failure is problem+json with errors [{field, message}]', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin' });
      expectProblem(res, 400, 'VALIDATION_FAILED', '/api/v1/auth/login');
      expect(Array.isArray(res.body.errors)).toBe(true);
      expect(res.body.errors.length).toBeGreaterThan(0);
      for (const error of res.body.errors) {
        expect(error).toEqual({ field: expect.any(String), message: expect.any(String) });
      }
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('password');
    });

    it('instance is the path without the query string', async () => {
      const res = await t.http.get('/api/v1/auth/me?x=1&y=2');
      expectProblem(res, 401, 'UNAUTHENTICATED', '/api/v1/auth/me');
    });

    it('a non-validation error carries no errors array and no stack', async () => {
      const res = await t.http.get('/api/v1/auth/me');
      expectProblem(res, 401, 'UNAUTHENTICATED');
      expect(res.body.errors).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toMatch(/\s+at \S+ \(|node_modules|\.ts:\d+/);
    });
  });

  describe('X-Request-Id', () => {
    it('echoes a sane caller value on a success', async () => {
      const res = await t.http.get('/health').set('X-Request-Id', 'req-abc.123_XYZ');
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('req-abc.123_XYZ');
    });

    it('echoes a sane caller value on an error and repeats it in the body', async () => {
      const res = await t.http.get('/api/v1/auth/me').set('X-Request-Id', 'client-req-42');
      expectProblem(res, 401, 'UNAUTHENTICATED');
      expect(res.headers['x-request-id']).toBe('client-req-42');
      expect(res.body.requestId).toBe('client-req-42');
    });

    it('generates a distinct id when the caller sends none', async () => {
      const a = await t.http.get('/health');
      const b = await t.http.get('/health');
      expect(a.headers['x-request-id']).toEqual(expect.any(String));
      expect(a.headers['x-request-id'].length).toBeGreaterThan(0);
      expect(b.headers['x-request-id']).toEqual(expect.any(String));
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it('replaces a 300-character value with a generated id', async () => {
      const long = 'a'.repeat(300);
      const res = await t.http.get('/api/v1/auth/me').set('X-Request-Id', long);
      expectProblem(res, 401, 'UNAUTHENTICATED');
      expect(res.headers['x-request-id']).not.toBe(long);
      expect(res.headers['x-request-id'].length).toBeGreaterThan(0);
      expect(res.headers['x-request-id'].length).toBeLessThan(300);
    });

    it('replaces a value with spaces with a generated id', async () => {
      const spaced = 'hello world';
      const res = await t.http.get('/api/v1/auth/me').set('X-Request-Id', spaced);
      expectProblem(res, 401, 'UNAUTHENTICATED');
      expect(res.headers['x-request-id']).not.toBe(spaced);
      expect(res.headers['x-request-id']).not.toMatch(/\s/);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
    });

    it('is on every kind of response', async () => {
      const responses = await Promise.all([
        t.http.get('/health'),
        t.http.get('/api/v1/nothing-here').set(bearer(admin)),
        t.http.put('/api/v1/auth/me').set(bearer(admin)).send({}),
        t.http.get('/api/v1/auth/me').set(bearer(admin)),
        t.http.get('/.well-known/jwks.json'),
        t.http.get('/docs-json'),
      ]);
      for (const res of responses) {
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
        expect(res.headers['x-request-id'].length).toBeGreaterThan(0);
      }
    });
  });

  describe('request bodies', () => {
    it('a body over 100 KiB is 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: ADMIN_PASSWORD, padding: 'x'.repeat(101 * 1024) });
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a body just under 100 KiB is read (and judged on its content)', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: ADMIN_PASSWORD, padding: 'x'.repeat(99 * 1024) });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('padding');
    });

    it('text/plain is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('application/x-www-form-urlencoded is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .type('form')
        .send(`username=admin&password=${ADMIN_PASSWORD}`);
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a non-JSON body on an authenticated route is 415 and changes nothing', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(bearer(admin))
        .type('form')
        .send(`username=formuser&password=${USER_PASSWORD}&role=teller`);
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const list = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
      expect(list.status).toBe(200);
      expect(list.body.items.map((u: { username: string }) => u.username)).not.toContain(
        'formuser',
      );
    });

    it('a route that takes no body accepts an empty request of any type (axios posts a form)', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json']) {
        const pair = await t.login('admin', ADMIN_PASSWORD);
        const res = await t.http
          .post('/api/v1/auth/logout')
          .set(bearer(pair.accessToken))
          .set('Content-Type', type);
        expect({ type, status: res.status }).toEqual({ type, status: 204 });
        expect((await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken))).status).toBe(
          401,
        );
      }
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const all = await t.http
        .post('/api/v1/auth/logout-all')
        .set(bearer(pair.accessToken))
        .set('Content-Type', 'application/x-www-form-urlencoded');
      expect(all.status).toBe(204);
      admin = await t.adminToken();
    });

    it('a route that needs a body answers an empty request: 415 for another type, 400 for JSON', async () => {
      const form = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .set('Content-Type', 'application/x-www-form-urlencoded');
      expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const json = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .set('Content-Type', 'application/json');
      expectProblem(json, 400, 'VALIDATION_FAILED');
      const none = await t.http.post('/api/v1/auth/login').set('X-Forwarded-For', freshAddress());
      expectProblem(none, 400, 'VALIDATION_FAILED');
    });

    it('application/json with a charset parameter is JSON', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
      expect(res.status).toBe(200);
      expect(res.body.accessToken).toEqual(expect.any(String));
    });

    it('malformed JSON is 400 VALIDATION_FAILED', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .set('Content-Type', 'application/json')
        .send('{"username": "admin", "password": ');
      expectProblem(res, 400, 'VALIDATION_FAILED', '/api/v1/auth/login');
    });

    it('an unknown body field is 400 with the field named in errors', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: ADMIN_PASSWORD, rememberMe: true });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([{ field: 'rememberMe', message: expect.any(String) }]),
      );
    });

    it('a missing required field is said to be required, first and alone', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({});
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        { field: 'username', message: 'username is required' },
        { field: 'password', message: 'password is required' },
      ]);
      const partial = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: null });
      expect(partial.body.errors).toEqual([{ field: 'password', message: 'password is required' }]);
      const long = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: 'x'.repeat(129) });
      expect(long.body.errors).toEqual([
        { field: 'password', message: expect.stringMatching(/128/) },
      ]);
    });

    it('an unknown field on a resource body is rejected, not ignored', async () => {
      const res = await t.http
        .post('/api/v1/users')
        .set(bearer(admin))
        .send({ username: 'sneaky', password: USER_PASSWORD, role: 'teller', isRoot: true });
      expectProblem(res, 400, 'VALIDATION_FAILED', '/api/v1/users');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([{ field: 'isRoot', message: expect.any(String) }]),
      );
      const list = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
      expect(list.body.items.map((u: { username: string }) => u.username)).not.toContain('sneaky');
    });
  });

  describe('routing', () => {
    it('PUT /api/v1/auth/me is 405 with Allow listing GET', async () => {
      const res = await t.http.put('/api/v1/auth/me').set(bearer(admin)).send({});
      expectProblem(res, 405, 'METHOD_NOT_ALLOWED', '/api/v1/auth/me');
      const methods = allowed(res);
      expect(methods).toContain('GET');
      expect(methods).not.toContain('PUT');
      expect(methods).not.toContain('POST');
    });

    it('DELETE /api/v1/auth/login is 405 with Allow listing POST', async () => {
      const res = await t.http.delete('/api/v1/auth/login');
      expectProblem(res, 405, 'METHOD_NOT_ALLOWED', '/api/v1/auth/login');
      const methods = allowed(res);
      expect(methods).toContain('POST');
      expect(methods).not.toContain('DELETE');
      expect(methods).not.toContain('GET');
    });

    it('PUT on a parameterised path is 405 with its real methods', async () => {
      const res = await t.http
        .put('/api/v1/users/00000000-0000-4000-8000-000000000000')
        .set(bearer(admin))
        .send({});
      expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
      const methods = allowed(res);
      expect(methods).toEqual(expect.arrayContaining(['GET', 'PATCH']));
      expect(methods).not.toContain('PUT');
      expect(methods).not.toContain('DELETE');
    });

    it('an unknown path is 404 NOT_FOUND', async () => {
      const res = await t.http.get('/api/v1/no-such-thing').set(bearer(admin));
      expectProblem(res, 404, 'NOT_FOUND', '/api/v1/no-such-thing');
      expect(res.headers['allow']).toBeUndefined();
    });

    it('a malformed path id is 400 VALIDATION_FAILED, a well-formed unknown one 404', async () => {
      const bad = await t.http.get('/api/v1/users/not-a-uuid').set(bearer(admin));
      expectProblem(bad, 400, 'VALIDATION_FAILED', '/api/v1/users/not-a-uuid');
      const unknown = await t.http
        .get('/api/v1/users/3f2b8c1e-9d4a-4b7e-8f00-123456789abc')
        .set(bearer(admin));
      expectProblem(
        unknown,
        404,
        'NOT_FOUND',
        '/api/v1/users/3f2b8c1e-9d4a-4b7e-8f00-123456789abc',
      );
    });
  });

  describe('authentication', () => {
    it('a missing token is 401 UNAUTHENTICATED', async () => {
      const res = await t.http.get('/api/v1/users');
      expectProblem(res, 401, 'UNAUTHENTICATED', '/api/v1/users');
    });

    it('a token in the query string is not accepted', async () => {
      const token = await t.adminToken();
      const ok = await t.http.get('/api/v1/auth/me').set(bearer(token));
      expect(ok.status).toBe(200);
      const res = await t.http.get(`/api/v1/auth/me?access_token=${encodeURIComponent(token)}`);
      expect(res.status).toBe(401);
      expectProblem(res, 401, res.body.code);
      expect(['UNAUTHENTICATED', 'TOKEN_INVALID']).toContain(res.body.code);
    });

    it('a token in the body is not accepted (and does nothing)', async () => {
      const token = await t.adminToken();
      const res = await t.http.post('/api/v1/auth/logout-all').send({ access_token: token });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const still = await t.http.get('/api/v1/auth/me').set(bearer(token));
      expect(still.status).toBe(200);
    });

    it('public routes need no token', async () => {
      const health = await t.http.get('/health');
      expect(health.status).toBe(200);
      const jwks = await t.http.get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      const docs = await t.http.get('/docs-json');
      expect(docs.status).toBe(200);
    });
  });

  describe('headers', () => {
    it('sets security headers and hides X-Powered-By, on successes and errors', async () => {
      const responses = await Promise.all([
        t.http.get('/health'),
        t.http.get('/api/v1/auth/me').set(bearer(admin)),
        t.http.get('/api/v1/auth/me'),
        t.http.get('/api/v1/does-not-exist'),
      ]);
      for (const res of responses) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(String(res.headers['x-frame-options']).toUpperCase()).toMatch(/^(DENY|SAMEORIGIN)$/);
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('API answers allow no content and no framing; Swagger UI’s page gets what it needs to run', async () => {
      for (const res of await Promise.all([
        t.http.get('/api/v1/auth/me').set(bearer(admin)),
        t.http.get('/api/v1/auth/me'),
        t.http.get('/api/v1/does-not-exist'),
      ])) {
        expect(res.headers['content-security-policy']).toBe(
          `default-src 'none';frame-ancestors 'none'`,
        );
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
      const page = await t.http.get('/docs').redirects(2);
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toContain(`script-src 'self'`);
      expect(page.headers['content-security-policy']).toContain(`style-src 'self' 'unsafe-inline'`);
      expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    });

    it('the login response is Cache-Control: no-store', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toMatch(/no-store/);
    });

    it('the simplejwt token response is Cache-Control: no-store', async () => {
      const res = await t.http
        .post('/api/token/')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
      expect(res.headers['cache-control']).toMatch(/no-store/);
    });

    it('the refresh response is Cache-Control: no-store', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const res = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: pair.refreshToken });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toMatch(/no-store/);
    });
  });

  describe('health, docs and keys', () => {
    it('GET /health is 200 {status: "ok"}', async () => {
      const res = await t.http.get('/health');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.status).toBe('ok');
    });

    it('GET /docs serves the Swagger UI as HTML', async () => {
      const res = await t.http.get('/docs').redirects(2);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toMatch(/swagger/i);
    });

    it('GET /docs-json is an OpenAPI 3 document of the API', async () => {
      const res = await t.http.get('/docs-json');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/json/);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);

      const schemes: unknown[] = Object.values(doc.components?.securitySchemes ?? {});
      expect(schemes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'http', scheme: expect.stringMatching(/^bearer$/i) }),
        ]),
      );

      const paths = Object.keys(doc.paths);
      expect(paths).toEqual(
        expect.arrayContaining(['/api/v1/auth/login', '/api/v1/users/{id}', '/api/v1/auth/me']),
      );
      expect(paths.some((p) => p === '/api/token' || p === '/api/token/')).toBe(true);
      expect(doc.paths['/api/v1/auth/login'].post).toBeDefined();
      expect(doc.paths['/api/v1/users/{id}'].get).toBeDefined();
      expect(doc.paths['/api/v1/users/{id}'].patch).toBeDefined();

      const me = doc.paths['/api/v1/auth/me'].get;
      expect(me.responses['401']).toBeDefined();
      expect(me.security).toEqual(expect.arrayContaining([expect.any(Object)]));
    });

    it('/docs-json documents the users errors the API lists', async () => {
      const doc = (await t.http.get('/docs-json')).body;
      const create = doc.paths['/api/v1/users'].post.responses;
      expect(Object.keys(create)).toEqual(
        expect.arrayContaining(['201', '400', '401', '403', '409']),
      );
      const update = doc.paths['/api/v1/users/{id}'].patch.responses;
      expect(Object.keys(update)).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '409']),
      );
    });

    it('/docs-json documents the list query parameters page, limit and role', async () => {
      const doc = (await t.http.get('/docs-json')).body;
      expect(doc.paths['/api/v1/users'].get.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'page', in: 'query' }),
          expect.objectContaining({ name: 'limit', in: 'query' }),
          expect.objectContaining({ name: 'role', in: 'query' }),
        ]),
      );
    });

    it('/docs-json documents /api/v1 errors with the media type they are sent with', async () => {
      const doc = (await t.http.get('/docs-json')).body;
      const wrong: string[] = [];
      const paths = doc.paths as Record<string, Record<string, OpenApiOperation>>;
      for (const [path, item] of Object.entries(paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const [method, operation] of Object.entries(item)) {
          for (const [status, response] of Object.entries(operation.responses ?? {})) {
            if (!/^[45]\d\d$/.test(status) || !response.content) continue;
            const types = Object.keys(response.content);
            if (!types.includes('application/problem+json')) {
              wrong.push(`${method.toUpperCase()} ${path} ${status}: ${types.join(', ')}`);
            }
          }
        }
      }
      expect(wrong).toEqual([]);
    });

    it('GET /.well-known/jwks.json is 200 {keys: [...]} without auth, never a secret', async () => {
      const res = await t.http.get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Array.isArray(res.body.keys)).toBe(true);
      for (const key of res.body.keys) {
        expect(key.k).toBeUndefined();
        expect(key.d).toBeUndefined();
      }
    });
  });

  describe('client address (TRUST_PROXY=loopback: the proxy on loopback is believed)', () => {
    it('X-Forwarded-For from the trusted proxy is the recorded session address', async () => {
      const address = freshAddress();
      const pair = await t.login('admin', ADMIN_PASSWORD, address);
      const res = await t.http.get('/api/v1/auth/sessions').set(bearer(pair.accessToken));
      expect(res.status).toBe(200);
      const current = (res.body as Array<{ current: boolean; ip: string }>).find((s) => s.current);
      expect(current?.ip).toBe(address);
    });

    it('failures from distinct forwarded addresses do not lock out another address', async () => {
      const token = await t.adminToken();
      await t.createUser(token, { username: 'proxied', role: 'teller' });
      for (let i = 0; i < 5; i += 1) {
        const res = await t.http
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', freshAddress())
          .send({ username: 'proxied', password: 'wrong-password-wrong' });
        expectProblem(res, 401, 'INVALID_CREDENTIALS');
      }
      const ok = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'proxied', password: USER_PASSWORD });
      expect(ok.status).toBe(200);
    });
  });
});

describe('client address without TRUST_PROXY', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await TestApp.start({ TRUST_PROXY: '' });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a forged X-Forwarded-For is not the recorded session address', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD, '203.0.113.77');
    const res = await t.http.get('/api/v1/auth/sessions').set(bearer(pair.accessToken));
    expect(res.status).toBe(200);
    const current = (res.body as Array<{ current: boolean; ip: string }>).find((s) => s.current);
    expect(current).toBeDefined();
    expect(current?.ip).not.toBe('203.0.113.77');
  });

  it('forged X-Forwarded-For values do not escape the username+address lockout', async () => {
    await t.createUser(admin, { username: 'forger', role: 'teller' });
    for (let i = 0; i < 5; i += 1) {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', `203.0.113.${10 + i}`)
        .send({ username: 'forger', password: 'wrong-password-wrong' });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
    }
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', '203.0.113.200')
      .send({ username: 'forger', password: USER_PASSWORD });
    expectProblem(res, 429, 'TOO_MANY_REQUESTS');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('client address with TRUST_PROXY=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Logs admin in, with this X-Forwarded-For if given; the address its session shows. */
  async function sessionAddress(forwardedFor?: string): Promise<string> {
    const login = t.http.post('/api/v1/auth/login');
    const res = await (
      forwardedFor === undefined ? login : login.set('X-Forwarded-For', forwardedFor)
    ).send({ username: 'admin', password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    const sessions = await t.http
      .get('/api/v1/auth/sessions')
      .set(bearer(res.body.accessToken as string));
    expect(sessions.status).toBe(200);
    return (sessions.body as Array<{ current: boolean; ip: string }>).find((s) => s.current)!.ip;
  }

  it('believes a forwarded IP address (the control for the cases below)', async () => {
    expect(await sessionAddress('203.0.113.9')).toBe('203.0.113.9');
  });

  it.each([
    ['65 characters', 'a'.repeat(65)],
    ['an IPv6 address with a zone, 65 characters in all', `fe80::1%${'a'.repeat(57)}`],
    ['markup', '<b>evil</b>'],
  ])(
    'ignores a forwarded address of %s: the login works and the session shows the socket address',
    async (_, forwardedFor) => {
      const socket = await sessionAddress();
      expect(isIP(socket)).not.toBe(0);
      expect(await sessionAddress(forwardedFor)).toBe(socket);
    },
  );
});

describe('CORS with CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(async () => {
    await t.close();
  });

  const preflight = (origin: string) =>
    t.http
      .options('/api/v1/auth/login')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,authorization');

  it('a preflight from a listed origin echoes it', async () => {
    const res = await preflight('https://app.example');
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toMatch(
      /authorization/,
    );
  });

  it('a preflight allows every method the API uses, PATCH and DELETE included', async () => {
    const paths = (await t.http.get('/docs-json')).body.paths as Record<string, object>;
    const used = new Set(
      Object.values(paths).flatMap((item) => Object.keys(item).map((m) => m.toUpperCase())),
    );
    expect([...used].sort()).toEqual(['DELETE', 'GET', 'PATCH', 'POST']);
    const examples: Record<string, string> = {
      GET: '/api/v1/accounts',
      HEAD: '/health',
      POST: '/api/v1/auth/logout',
      PATCH: `/api/v1/accounts/${randomUUID()}`,
      DELETE: `/api/v1/auth/sessions/${randomUUID()}`,
    };
    for (const [method, path] of Object.entries(examples)) {
      const res = await t.http
        .options(path)
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect({ method, status: res.status }).toEqual({ method, status: 204 });
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
      const allowed = String(res.headers['access-control-allow-methods']).split(/\s*,\s*/);
      expect(allowed).toContain(method);
    }
  });

  it('a preflight answer carries X-Request-Id too (every response does)', async () => {
    const res = await preflight('https://app.example').set('X-Request-Id', 'preflight-1');
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(res.headers['x-request-id']).toBe('preflight-1');
  });

  it('a preflight from an unlisted origin is never echoed', async () => {
    const res = await preflight('https://evil.example');
    expect(res.headers['access-control-allow-origin']).not.toBe('https://evil.example');
    expect(res.headers['access-control-allow-origin']).not.toBe('*');
  });

  it('a simple request echoes only a listed origin', async () => {
    const listed = await t.http.get('/health').set('Origin', 'https://app.example');
    expect(listed.status).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example');
    const unlisted = await t.http.get('/health').set('Origin', 'https://app.example.evil.test');
    expect(unlisted.headers['access-control-allow-origin']).not.toBe(
      'https://app.example.evil.test',
    );
    expect(unlisted.headers['access-control-allow-origin']).not.toBe('*');
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('echoes no origin at all', async () => {
    const res = await t.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await t.http.get('/health').set('Origin', 'https://app.example');
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS with CORS_ORIGINS=*', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ CORS_ORIGINS: '*' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('does not allow credentials with a wildcard origin', async () => {
    const res = await t.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://anyone.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeDefined();
    expect(res.headers['access-control-allow-credentials']).not.toBe('true');
  });

  it('allows PATCH and DELETE from any origin too', async () => {
    for (const method of ['PATCH', 'DELETE']) {
      const res = await t.http
        .options(`/api/v1/accounts/${randomUUID()}`)
        .set('Origin', 'https://anyone.example')
        .set('Access-Control-Request-Method', method);
      expect(String(res.headers['access-control-allow-methods'])).toContain(method);
    }
  });
});

describe('answers outside the routes carry the standard headers and shape', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await TestApp.start({ CORS_ORIGINS: 'https://app.example', REQUEST_TIMEOUT: '1' });
    const server = t.app.getHttpServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await t.close();
  });

  /**
   * Sends raw bytes (then, with `drip`, one more byte every 100 ms) and reads
   * the answer until the server closes the connection.
   */
  function raw(
    request: string,
    drip = false,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request));
      const dripping = drip ? setInterval(() => socket.writable && socket.write('{'), 100) : null;
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        if (dripping) clearInterval(dripping);
        const [head, body] = text.split('\r\n\r\n');
        const [statusLine, ...lines] = head.split('\r\n');
        const headers = Object.fromEntries(
          lines.map((l) => [
            l.slice(0, l.indexOf(':')).toLowerCase(),
            l.slice(l.indexOf(':') + 1).trim(),
          ]),
        );
        resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
      });
    });
  }

  const expectStandard = (
    res: { status: number; headers: Record<string, string>; body: string },
    status: number,
    code = 'VALIDATION_FAILED',
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, requestId: res.headers['x-request-id'] });
  };

  it('an oversized header is 431 problem details', async () => {
    const res = await raw(
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectStandard(res, 431);
  });

  it('Content-Length together with Transfer-Encoding is 400 problem details', async () => {
    const res = await raw(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expectStandard(res, 400);
  });

  it('a path parameter longer than the router takes is 414 problem details that echo nothing', async () => {
    const marker = 'echo'.repeat(80);
    const res = await raw(`GET /api/v1/accounts/${marker} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectStandard(res, 414);
    expect(res.body).not.toContain('echo');
    expect(JSON.parse(res.body)).toMatchObject({ instance: '/' });
  });

  it('an absolute-form target is answered for its path: no answer repeats the host', async () => {
    const res = await raw(
      'GET http://evil.example/api/v1/auth/me?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'UNAUTHENTICATED',
      instance: '/api/v1/auth/me',
    });
    expect(res.body).not.toContain('evil');
  });

  it('an HTTP/1.1 request without Host is 400 problem details that echo nothing', async () => {
    const res = await raw('GET /health/echo-marker HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectStandard(res, 400);
    expect(JSON.parse(res.body)).toMatchObject({
      detail: expect.stringMatching(/Host/),
      instance: '/',
    });
    expect(res.body).not.toContain('echo-marker');
  });

  it('an Expect header the service cannot meet is 417 problem details', async () => {
    const res = await raw(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
    expectStandard(res, 417);
  });

  it('a body trickled one byte at a time is answered 408 REQUEST_TIMEOUT and closed', async () => {
    const started = Date.now();
    const res = await raw(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
      true,
    );
    expectStandard(res, 408, 'REQUEST_TIMEOUT');
    // REQUEST_TIMEOUT is 1 s here; Node looks for late requests every second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an OPTIONS the CORS layer refuses is 400 problem details, with the headers', async () => {
    const res = await t.http.options('/api/v1/auth/login').set('Origin', 'https://app.example');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      requestId: res.headers['x-request-id'],
    });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('a preflight answer carries the security headers', async () => {
    const res = await t.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toEqual(expect.any(String));
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });
});

describe('connections beyond MAX_CONNECTIONS', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await TestApp.start({ MAX_CONNECTIONS: '3' });
    const server = t.app.getHttpServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await t.close();
  });

  const open = () =>
    new Promise<Socket>((done, reject) => {
      const socket = connect(port, '127.0.0.1', () => done(socket));
      socket.on('error', reject);
    });
  /** Resolves when the server closes the connection, with what it sent first. */
  const closedBy = (socket: Socket) =>
    new Promise<string>((done) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => done(text));
    });

  it('are closed at once, and the service answers again when one ends', async () => {
    const held = [await open(), await open(), await open()];
    const extra = await open();
    extra.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closedBy(extra)).toBe('');

    held[0].destroy();
    const answer = await until('a connection served again', async () => {
      const socket = await open();
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const text = await closedBy(socket);
      return text.startsWith('HTTP/1.1 200') ? text : undefined;
    });
    expect(answer).toMatch(/"status":"ok"/);
    for (const socket of held) socket.destroy();
  });
});
