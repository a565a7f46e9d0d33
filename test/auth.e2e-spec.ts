import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { expectProblem } from './helpers/expect';
import { onServer } from './helpers/databases';
import {
  ADMIN_PASSWORD,
  TEST_JWT_SECRET,
  TestApp,
  TokenPair,
  USER_PASSWORD,
  bearer,
  freshAddress,
} from './helpers/app';

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('auth', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await TestApp.start({ REFRESH_REUSE_GRACE: '2' });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const refresh = (refreshToken: string) =>
    t.http.post('/api/v1/auth/refresh').send({ refreshToken });
  const me = (accessToken: string) => t.http.get('/api/v1/auth/me').set(bearer(accessToken));
  let userCount = 0;
  async function newUser(role = 'teller'): Promise<{ id: string; username: string }> {
    userCount += 1;
    const username = `user${userCount}`;
    return { id: await t.createUser(admin, { username, role }), username };
  }

  describe('login', () => {
    it('returns a token pair with lifetimes in seconds, not cacheable', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .send({ username: 'admin', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshExpiresIn: 15 * 86400,
      });
      const claims = claimsOf(res.body.accessToken);
      expect(claims).toMatchObject({ typ: 'access', iss: 'bank-api', aud: 'bank-api' });
      for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp']) expect(claims[claim]).toBeDefined();
      expect(Buffer.from(res.body.refreshToken, 'base64url').length * 8).toBeGreaterThanOrEqual(
        256,
      );
    });

    it('accepts the username in any case', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .send({ username: 'ADMIN', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
    });

    it('answers unknown user, wrong password and disabled user identically', async () => {
      const disabled = await newUser();
      await t.http
        .patch(`/api/v1/users/${disabled.id}`)
        .set(bearer(admin))
        .send({ disabled: true })
        .expect(200);
      const attempts = [
        { username: 'nobody-here', password: USER_PASSWORD },
        { username: 'admin', password: 'wrong-password-123' },
        { username: disabled.username, password: USER_PASSWORD },
      ];
      const bodies = [];
      for (const attempt of attempts) {
        const res = await t.http
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', freshAddress())
          .send(attempt);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const { requestId, ...rest } = res.body;
        expect(requestId).toBeDefined();
        bodies.push(rest);
      }
      expect(bodies[0]).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
    });

    it('refuses a password over 128 characters with 400, before any hashing', async () => {
      const res = await t.http
        .post('/api/v1/auth/login')
        .send({ username: 'admin', password: 'x'.repeat(129) });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
    });

    it('refuses missing fields with 400', async () => {
      const res = await t.http.post('/api/v1/auth/login').send({ username: 'admin' });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('password');
    });
  });

  describe('refresh rotation', () => {
    it('consumes the refresh token and returns a new pair in the same session', async () => {
      const first = await t.login('admin', ADMIN_PASSWORD);
      const res = await refresh(first.refreshToken);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.refreshToken).not.toBe(first.refreshToken);
      expect(res.body.accessToken).not.toBe(first.accessToken);
      expect(claimsOf(res.body.accessToken).sid).toBe(claimsOf(first.accessToken).sid);
      await me(res.body.accessToken).expect(200);
    });

    it('treats a replay after the grace window as reuse and revokes the whole session', async () => {
      const first = await t.login('admin', ADMIN_PASSWORD);
      const second = (await refresh(first.refreshToken).expect(200)).body as TokenPair;
      // The rotation, 3 s ago: past the 2 s REFRESH_REUSE_GRACE without waiting for it.
      const [, shifted] = await t.app
        .get(DataSource)
        .query(`UPDATE sessions SET rotated_at = rotated_at - interval '3 seconds' WHERE id = $1`, [
          claimsOf(first.accessToken).sid,
        ]);
      expect(shifted).toBe(1);
      const replay = await refresh(first.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('REFRESH_TOKEN_REUSED');
      await refresh(second.refreshToken).expect(401);
      await me(second.accessToken).expect(401);
      await me(first.accessToken).expect(401);
    });

    it('inside the grace window returns the same successor and revokes nothing', async () => {
      const first = await t.login('admin', ADMIN_PASSWORD);
      const a = (await refresh(first.refreshToken).expect(200)).body as TokenPair;
      const b = (await refresh(first.refreshToken).expect(200)).body as TokenPair;
      expect(b.refreshToken).toBe(a.refreshToken);
      await me(a.accessToken).expect(200);
      await me(b.accessToken).expect(200);
      const c = (await refresh(a.refreshToken).expect(200)).body as TokenPair;
      await me(c.accessToken).expect(200);
    });

    it('treats an older token as reuse even inside the grace window', async () => {
      const first = await t.login('admin', ADMIN_PASSWORD);
      const second = (await refresh(first.refreshToken).expect(200)).body as TokenPair;
      const third = (await refresh(second.refreshToken).expect(200)).body as TokenPair;
      const replay = await refresh(first.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('REFRESH_TOKEN_REUSED');
      await refresh(third.refreshToken).expect(401);
      await me(third.accessToken).expect(401);
    });

    it('20 parallel refreshes all succeed with one successor, the only live token', async () => {
      const first = await t.login('admin', ADMIN_PASSWORD);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => refresh(first.refreshToken)),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      const successors = new Set(results.map((r) => r.body.refreshToken as string));
      expect(successors.size).toBe(1);
      const [successor] = [...successors];
      const verify = await t.http.post('/api/v1/auth/verify').send({ token: successor });
      expect(verify.body).toMatchObject({ valid: true, type: 'refresh' });
      await t.http.post('/api/v1/auth/verify').send({ token: first.refreshToken }).expect(401);
      const next = await refresh(successor);
      expect(next.status).toBe(200);
      await me(next.body.accessToken).expect(200);
    });

    it('never accepts an access token as a refresh token, nor the reverse', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const asRefresh = await refresh(pair.accessToken);
      expect(asRefresh.status).toBe(401);
      expect(asRefresh.body.code).toBe('TOKEN_INVALID');
      const asAccess = await me(pair.refreshToken);
      expect(asAccess.status).toBe(401);
      await me(pair.accessToken).expect(200);
      await refresh(pair.refreshToken).expect(200);
    });

    it('refuses a garbage or forged refresh token', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const raw = Buffer.from(pair.refreshToken, 'base64url');
      raw[raw.length - 1] ^= 1;
      for (const token of ['garbage', raw.toString('base64url')]) {
        const res = await refresh(token);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('TOKEN_INVALID');
      }
      await refresh(pair.refreshToken).expect(200);
    });
  });

  describe('access tokens', () => {
    const jwt = new JwtService({});
    let pair: TokenPair;
    let claims: Record<string, unknown>;
    beforeAll(async () => {
      pair = await t.login('admin', ADMIN_PASSWORD);
      claims = claimsOf(pair.accessToken);
    });
    const forge = (
      overrides: Record<string, unknown>,
      secret = TEST_JWT_SECRET,
      algorithm: 'HS256' | 'HS512' = 'HS256',
    ) => jwt.sign({ ...claims, jti: randomUUID(), ...overrides }, { secret, algorithm });

    it('works as a bearer token (the control for the cases below)', async () => {
      await me(forge({})).expect(200);
    });

    it.each([
      ['wrong audience', { aud: 'another-api' }, 'TOKEN_INVALID'],
      ['wrong issuer', { iss: 'someone-else' }, 'TOKEN_INVALID'],
      ['expired', { exp: Math.floor(Date.now() / 1000) - 5 }, 'TOKEN_EXPIRED'],
      ['not an access token', { typ: 'refresh' }, 'TOKEN_INVALID'],
      ['unknown session', { sid: randomUUID() }, 'TOKEN_INVALID'],
    ])('refuses a token with %s', async (_name, overrides, code) => {
      const res = await me(forge(overrides));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(code);
    });

    it('refuses another signing secret and another algorithm', async () => {
      await me(forge({}, 'another-secret-that-is-long-enough-for-hs256')).expect(401);
      await me(forge({}, TEST_JWT_SECRET, 'HS512')).expect(401);
    });

    it('refuses alg none and a tampered signature or payload', async () => {
      const [header, payload, signature] = pair.accessToken.split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const tamperedPayload = Buffer.from(
        JSON.stringify({ ...claims, sub: randomUUID() }),
      ).toString('base64url');
      const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
      for (const token of [
        `${none}.${payload}.`,
        `${header}.${tamperedPayload}.${signature}`,
        `${header}.${payload}.${flipped}`,
      ]) {
        const res = await me(token);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('TOKEN_INVALID');
      }
    });

    it('needs the Authorization header: missing is UNAUTHENTICATED', async () => {
      const res = await t.http.get('/api/v1/auth/me');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      await t.http.get(`/api/v1/auth/me?access_token=${pair.accessToken}`).expect(401);
    });
  });

  describe('logout', () => {
    it('refuses the same access token and the refresh token at once', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      await me(pair.accessToken).expect(200);
      await t.http.post('/api/v1/auth/logout').set(bearer(pair.accessToken)).expect(204);
      const after = await me(pair.accessToken);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('TOKEN_INVALID');
      await refresh(pair.refreshToken).expect(401);
      await t.http.post('/api/v1/auth/logout').set(bearer(pair.accessToken)).expect(401);
    });

    it('accepts an empty JSON body, as some clients send one', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      await t.http
        .post('/api/v1/auth/logout')
        .set(bearer(pair.accessToken))
        .set('Content-Type', 'application/json')
        .expect(204);
    });

    it('logout-all ends every session of the caller only', async () => {
      const user = await newUser();
      const a = await t.login(user.username, USER_PASSWORD);
      const b = await t.login(user.username, USER_PASSWORD);
      const other = await t.login('admin', ADMIN_PASSWORD);
      await t.http.post('/api/v1/auth/logout-all').set(bearer(a.accessToken)).expect(204);
      await me(a.accessToken).expect(401);
      await me(b.accessToken).expect(401);
      await refresh(b.refreshToken).expect(401);
      await me(other.accessToken).expect(200);
    });
  });

  describe('verify', () => {
    it('says valid for a live access token with its exp', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const res = await t.http.post('/api/v1/auth/verify').send({ token: pair.accessToken });
      expect(res.status).toBe(200);
      const claims = claimsOf(pair.accessToken);
      expect(res.body).toEqual({ valid: true, type: 'access', sub: claims.sub, exp: claims.exp });
    });

    it('says valid for the live refresh token, exp in seconds since the epoch', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const res = await t.http.post('/api/v1/auth/verify').send({ token: pair.refreshToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        valid: true,
        type: 'refresh',
        sub: claimsOf(pair.accessToken).sub,
      });
      const expected = Math.floor(Date.now() / 1000) + pair.refreshExpiresIn;
      expect(Math.abs(res.body.exp - expected)).toBeLessThanOrEqual(3);
    });

    it('says 401 for a revoked session, garbage, and a consumed refresh token', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const next = (await refresh(pair.refreshToken).expect(200)).body as TokenPair;
      await t.http.post('/api/v1/auth/verify').send({ token: pair.refreshToken }).expect(401);
      await t.http.post('/api/v1/auth/logout').set(bearer(next.accessToken)).expect(204);
      for (const token of [next.accessToken, next.refreshToken, 'not-a-token']) {
        const res = await t.http.post('/api/v1/auth/verify').send({ token });
        expect(res.status).toBe(401);
        expect(['TOKEN_INVALID', 'TOKEN_EXPIRED']).toContain(res.body.code);
      }
    });
  });

  describe('me and sessions', () => {
    it('me shows the caller', async () => {
      const user = await newUser();
      const pair = await t.login(user.username, USER_PASSWORD);
      const res = await me(pair.accessToken);
      expect(res.body).toEqual({
        id: user.id,
        username: user.username,
        role: 'teller',
        clientId: null,
      });
    });

    it('lists live sessions with the current one marked, and deletes one', async () => {
      const user = await newUser();
      const login = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', '203.0.113.7')
        .set('User-Agent', 'e2e-browser/1.0')
        .send({ username: user.username, password: USER_PASSWORD })
        .expect(200);
      const a = login.body as TokenPair;
      const b = await t.login(user.username, USER_PASSWORD);
      const list = await t.http.get('/api/v1/auth/sessions').set(bearer(a.accessToken));
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(2);
      const current = list.body.find((s: { current: boolean }) => s.current);
      expect(current).toEqual({
        id: claimsOf(a.accessToken).sid,
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        userAgent: 'e2e-browser/1.0',
        ip: '203.0.113.7',
        current: true,
      });
      const otherId = claimsOf(b.accessToken).sid as string;
      await t.http
        .delete(`/api/v1/auth/sessions/${otherId}`)
        .set(bearer(a.accessToken))
        .expect(204);
      await me(b.accessToken).expect(401);
      await refresh(b.refreshToken).expect(401);
      await me(a.accessToken).expect(200);
      const after = await t.http.get('/api/v1/auth/sessions').set(bearer(a.accessToken));
      expect(after.body.map((s: { id: string }) => s.id)).toEqual([claimsOf(a.accessToken).sid]);
    });

    it("cannot delete someone else's session (404), nor a malformed id (400)", async () => {
      const user = await newUser();
      const pair = await t.login(user.username, USER_PASSWORD);
      const adminSession = claimsOf(admin).sid as string;
      const res = await t.http
        .delete(`/api/v1/auth/sessions/${adminSession}`)
        .set(bearer(pair.accessToken));
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
      await me(admin).expect(200);
      await t.http.delete('/api/v1/auth/sessions/nope').set(bearer(pair.accessToken)).expect(400);
      await t.http
        .delete(`/api/v1/auth/sessions/${randomUUID()}`)
        .set(bearer(pair.accessToken))
        .expect(404);
    });
  });

  describe('password change', () => {
    it('refuses a wrong current password with 403 WRONG_PASSWORD and changes nothing', async () => {
      const user = await newUser();
      const pair = await t.login(user.username, USER_PASSWORD);
      const res = await t.http
        .post('/api/v1/auth/password')
        .set(bearer(pair.accessToken))
        .send({ currentPassword: 'not-the-password', newPassword: 'a-brand-new-password' });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('WRONG_PASSWORD');
      await t.login(user.username, USER_PASSWORD);
    });

    it('refuses a new password outside 12..128 characters', async () => {
      const user = await newUser();
      const pair = await t.login(user.username, USER_PASSWORD);
      for (const newPassword of ['short', 'x'.repeat(129)]) {
        await t.http
          .post('/api/v1/auth/password')
          .set(bearer(pair.accessToken))
          .send({ currentPassword: USER_PASSWORD, newPassword })
          .expect(400);
      }
    });

    it('changes the password and ends every other session, keeping this one', async () => {
      const user = await newUser();
      const current = await t.login(user.username, USER_PASSWORD);
      const other = await t.login(user.username, USER_PASSWORD);
      await t.http
        .post('/api/v1/auth/password')
        .set(bearer(current.accessToken))
        .send({ currentPassword: USER_PASSWORD, newPassword: 'a-brand-new-password' })
        .expect(204);
      await me(current.accessToken).expect(200);
      await me(other.accessToken).expect(401);
      await refresh(other.refreshToken).expect(401);
      await t.login(user.username, 'a-brand-new-password');
      await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: user.username, password: USER_PASSWORD })
        .expect(401);
    });
  });

  describe('login throttling', () => {
    const attempt = (username: string, password: string, address: string) =>
      t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', address)
        .send({ username, password });

    it('after 5 failures for a username from an address, refuses even the right password with 429', async () => {
      const user = await newUser();
      const address = freshAddress();
      for (let i = 0; i < 5; i++)
        await attempt(user.username, 'wrong-password-x', address).expect(401);
      const res = await attempt(user.username, USER_PASSWORD, address);
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('TOO_MANY_REQUESTS');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      await attempt(user.username, USER_PASSWORD, freshAddress()).expect(200);
    });

    it('a success does not erase earlier failures', async () => {
      const user = await newUser();
      const address = freshAddress();
      for (let i = 0; i < 4; i++)
        await attempt(user.username, 'wrong-password-x', address).expect(401);
      await attempt(user.username, USER_PASSWORD, address).expect(200);
      await attempt(user.username, 'wrong-password-x', address).expect(401);
      await attempt(user.username, USER_PASSWORD, address).expect(429);
    });

    it('after 20 failures from an address, refuses every login from it', async () => {
      const address = freshAddress();
      for (let i = 0; i < 20; i++)
        await attempt(`ghost${i}`, 'wrong-password-x', address).expect(401);
      const res = await attempt('admin', ADMIN_PASSWORD, address);
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      await attempt('admin', ADMIN_PASSWORD, freshAddress()).expect(200);
    });

    it('after 50 failures for a username, refuses it from every address', async () => {
      const user = await newUser();
      for (let i = 0; i < 50; i++)
        await attempt(user.username, 'wrong-password-x', freshAddress()).expect(401);
      await attempt(user.username, USER_PASSWORD, freshAddress()).expect(429);
      await attempt('admin', ADMIN_PASSWORD, freshAddress()).expect(200);
    });

    describe('cannot be turned against the user', () => {
      /** 50 wrong passwords for `username`, 5 from each of 10 addresses, as the attack goes. */
      async function attack(username: string): Promise<void> {
        for (let a = 0; a < 10; a++) {
          const address = freshAddress();
          for (let i = 0; i < 5; i++)
            await attempt(username, 'wrong-password-x', address).expect(401);
        }
      }

      it('after 50 failures from 10 addresses, the owner still logs in from an address of a success, on both login routes, and nowhere else', async () => {
        const user = await newUser();
        const known = freshAddress();
        await attempt(user.username, USER_PASSWORD, known).expect(200);
        await attack(user.username);

        const res = await attempt(user.username, USER_PASSWORD, known);
        expect(res.status).toBe(200);
        await me(res.body.accessToken).expect(200);
        const alias = await t.http
          .post('/api/token/')
          .set('X-Forwarded-For', known)
          .send({ username: user.username.toUpperCase(), password: USER_PASSWORD });
        expect(alias.status).toBe(200);

        const elsewhere = await attempt(user.username, USER_PASSWORD, freshAddress());
        expectProblem(elsewhere, 429, 'TOO_MANY_REQUESTS');
        expect(Number(elsewhere.headers['retry-after'])).toBeGreaterThan(0);
        const aliasElsewhere = await t.http
          .post('/api/token/')
          .set('X-Forwarded-For', freshAddress())
          .send({ username: user.username, password: USER_PASSWORD });
        expect(aliasElsewhere.status).toBe(429);
        expect(Number(aliasElsewhere.headers['retry-after'])).toBeGreaterThan(0);
      });

      it('the per-address limits still hold at a known address', async () => {
        const user = await newUser();
        const known = freshAddress();
        await attempt(user.username, USER_PASSWORD, known).expect(200);
        for (let i = 0; i < 5; i++)
          await attempt(user.username, 'wrong-password-x', known).expect(401);
        await attempt(user.username, USER_PASSWORD, known).expect(429);
      });

      it('an address whose last success is more than 30 days old is no longer known', async () => {
        const user = await newUser();
        const known = freshAddress();
        await attempt(user.username, USER_PASSWORD, known).expect(200);
        await t.app
          .get(DataSource)
          .query(
            `UPDATE login_successes SET last_success_at = now() - interval '30 days 1 minute' WHERE ip = $1`,
            [known],
          );
        await attack(user.username);
        await attempt(user.username, USER_PASSWORD, known).expect(429);
      });
    });
  });

  describe('simplejwt-compatible aliases', () => {
    it('POST /api/token/ gives {access, refresh}', async () => {
      const res = await t.http
        .post('/api/token/')
        .send({ username: 'admin', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
      await me(res.body.access).expect(200);
    });

    it('answers a wrong login like simplejwt', async () => {
      const res = await t.http
        .post('/api/token/')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: 'admin', password: 'wrong-password-x' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'No active account found with the given credentials' });
    });

    it('refresh rotates in the same sessions as /api/v1/auth', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const res = await t.http.post('/api/token/refresh/').send({ refresh: pair.refreshToken });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
      expect(claimsOf(res.body.access).sid).toBe(claimsOf(pair.accessToken).sid);
      const v1 = await refresh(res.body.refresh);
      expect(v1.status).toBe(200);
    });

    it('detects reuse through the alias and revokes the session', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const second = (await refresh(pair.refreshToken).expect(200)).body as TokenPair;
      await refresh(second.refreshToken).expect(200);
      const res = await t.http.post('/api/token/refresh/').send({ refresh: pair.refreshToken });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
      await me(second.accessToken).expect(401);
    });

    it('verify answers {} or 401 token_not_valid', async () => {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const ok = await t.http.post('/api/token/verify/').send({ token: pair.accessToken });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({});
      const bad = await t.http.post('/api/token/verify/').send({ token: 'nope' });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    });

    it('answers a missing field like DRF', async () => {
      const res = await t.http.post('/api/token/refresh/').send({});
      expect(res.status).toBe(400);
      expect(res.body).toHaveProperty('refresh');
    });

    it('answers a body that is not JSON with problem details, as every route: it is refused before routing', async () => {
      const res = await t.http
        .post('/api/token/')
        .set('Content-Type', 'application/json')
        .send('{"username": "admin",');
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });
});

describe('revocation across restarts and instances', () => {
  it('a logout survives a restart of the service', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bank-e2e-'));
    const first = await TestApp.start({ DATA_DIR: dataDir });
    let database: string | undefined;
    try {
      const pair = await first.login('admin', ADMIN_PASSWORD);
      const kept = await first.login('admin', ADMIN_PASSWORD);
      await first.http.post('/api/v1/auth/logout').set(bearer(pair.accessToken)).expect(204);
      database = first.database ?? undefined;
      await first.app.close();
      const second = await TestApp.start({ DATA_DIR: dataDir }, database ? { database } : {});
      try {
        await second.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(401);
        await second.http
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: pair.refreshToken })
          .expect(401);
        await second.http.get('/api/v1/auth/me').set(bearer(kept.accessToken)).expect(200);
      } finally {
        await second.app.close();
      }
    } finally {
      await first.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  (onServer ? it : it.skip)('a logout on one instance is refused at once by another', async () => {
    const a = await TestApp.start();
    const b = await TestApp.start({}, { database: a.database! });
    try {
      const pair = await a.login('admin', ADMIN_PASSWORD);
      await b.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(200);
      await a.http.post('/api/v1/auth/logout').set(bearer(pair.accessToken)).expect(204);
      await b.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(401);
      await b.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: pair.refreshToken })
        .expect(401);
    } finally {
      await b.app.close();
      await a.close();
    }
  });
});

describe('token lifetimes as configured', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ ACCESS_TOKEN_TTL: '90s', REFRESH_TOKEN_TTL: '1d' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a pair just issued states the configured lifetimes exactly, at login and at each refresh', async () => {
    const login = await t.login('admin', ADMIN_PASSWORD);
    expect({ expiresIn: login.expiresIn, refreshExpiresIn: login.refreshExpiresIn }).toEqual({
      expiresIn: 90,
      refreshExpiresIn: 86400,
    });
    const claims = claimsOf(login.accessToken);
    expect((claims.exp as number) - (claims.iat as number)).toBe(90);
    const refreshed = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: login.refreshToken })
      .expect(200);
    expect(refreshed.body).toMatchObject({ expiresIn: 90, refreshExpiresIn: 86400 });
    // The same successor handed out again within the grace window lives what is left of it.
    const again = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: login.refreshToken })
      .expect(200);
    expect(again.body.refreshToken).toBe(refreshed.body.refreshToken);
    expect(again.body.refreshExpiresIn).toBeGreaterThan(86390);
    expect(again.body.refreshExpiresIn).toBeLessThanOrEqual(86400);
  });
});
