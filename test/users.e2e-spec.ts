import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ADMIN_PASSWORD, TestApp, USER_PASSWORD, bearer, freshAddress } from './helpers/app';
import { uniqueName } from './helpers/banking';
import { ISO_UTC, UUID, expectFieldError, expectProblem } from './helpers/expect';

const USER_KEYS = ['clientId', 'createdAt', 'disabled', 'id', 'lastLoginAt', 'role', 'username'];

/** A user as the API describes it (docs/api-guide.md, openapi.json), and nothing more (no password, no hash). */
function expectUser(body: Record<string, unknown>, expected: Record<string, unknown>): void {
  expect(Object.keys(body).sort()).toEqual(USER_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.createdAt).toMatch(ISO_UTC);
  expect(
    body.lastLoginAt === null ||
      (typeof body.lastLoginAt === 'string' && ISO_UTC.test(body.lastLoginAt)),
  ).toBe(true);
  expect(body).toEqual(expect.objectContaining(expected));
  expect(JSON.stringify(body)).not.toMatch(/password|\$argon2|\$2[aby]\$/i);
}

/** There is no clients API yet: a client row straight in the database. */
async function insertClient(t: TestApp): Promise<string> {
  const rows: Array<{ id: string }> = await t.app
    .get(DataSource)
    .query(
      'INSERT INTO clients (national_id, first_name, last_name) VALUES ($1, $2, $3) RETURNING id',
      [`NID-${randomUUID().slice(0, 20)}`, 'Ada', 'Lovelace'],
    );
  return rows[0].id;
}

describe('users (admin)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: object, token = admin) =>
    t.http.post('/api/v1/users').set(bearer(token)).send(body);
  const patch = (id: string, body: object, token = admin) =>
    t.http.patch(`/api/v1/users/${id}`).set(bearer(token)).send(body);
  const getUser = (id: string, token = admin) =>
    t.http.get(`/api/v1/users/${id}`).set(bearer(token));

  async function allUsers(): Promise<Array<{ id: string; username: string; role: string }>> {
    const res = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body.total).toBeLessThanOrEqual(100);
    return res.body.items;
  }

  describe('POST /api/v1/users', () => {
    it('creates a teller: 201 with the user shape and no password anywhere', async () => {
      const username = uniqueName('teller');
      const res = await post({ username, password: USER_PASSWORD, role: 'teller' });
      expect(res.status).toBe(201);
      expectUser(res.body, {
        username,
        role: 'teller',
        clientId: null,
        disabled: false,
        lastLoginAt: null,
      });
      expect(Date.now() - Date.parse(res.body.createdAt)).toBeLessThan(5 * 60 * 1000);

      const read = await getUser(res.body.id);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);

      const listed = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
      expect(JSON.stringify(listed.body)).not.toMatch(/password|\$argon2|\$2[aby]\$/i);
      expect(listed.body.items).toEqual(expect.arrayContaining([res.body]));

      const pair = await t.login(username, USER_PASSWORD);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken));
      expect(me.body).toEqual({ id: res.body.id, username, role: 'teller', clientId: null });
    });

    it('creates an admin', async () => {
      const username = uniqueName('admin');
      const res = await post({ username, password: USER_PASSWORD, role: 'admin' });
      expect(res.status).toBe(201);
      expectUser(res.body, { username, role: 'admin', clientId: null, disabled: false });
    });

    it('a duplicate username is 409 CONFLICT', async () => {
      const username = uniqueName('dup');
      expect((await post({ username, password: USER_PASSWORD, role: 'teller' })).status).toBe(201);
      const again = await post({ username, password: `${USER_PASSWORD}-2`, role: 'admin' });
      expectProblem(again, 409, 'CONFLICT');
      const users = await allUsers();
      expect(users.filter((u) => u.username.toLowerCase() === username.toLowerCase())).toEqual([
        expect.objectContaining({ username, role: 'teller' }),
      ]);
    });

    it('parallel creates of one username: exactly one 201, the rest 409', async () => {
      const username = uniqueName('race');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          post({
            username: i % 2 === 0 ? username : username.toUpperCase(),
            password: USER_PASSWORD,
            role: 'teller',
          }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
      results.filter((r) => r.status === 409).forEach((r) => expectProblem(r, 409, 'CONFLICT'));
      const users = await allUsers();
      expect(users.filter((u) => u.username.toLowerCase() === username.toLowerCase())).toHaveLength(
        1,
      );
    });

    it('a username differing only in case is a duplicate (409)', async () => {
      const base = uniqueName('teller');
      const lower = base.toLowerCase();
      const upper = lower.charAt(0).toUpperCase() + lower.slice(1);
      expect(
        (await post({ username: lower, password: USER_PASSWORD, role: 'teller' })).status,
      ).toBe(201);
      const res = await post({ username: upper, password: USER_PASSWORD, role: 'teller' });
      expectProblem(res, 409, 'CONFLICT');
      const users = await allUsers();
      expect(users.filter((u) => u.username.toLowerCase() === lower)).toHaveLength(1);
    });

    it('"admin" in another case is taken', async () => {
      const res = await post({ username: 'Admin', password: USER_PASSWORD, role: 'teller' });
      expectProblem(res, 409, 'CONFLICT');
    });

    it('a password of 11 characters is 400; 12 is accepted', async () => {
      const short = await post({
        username: uniqueName('pw'),
        password: 'a'.repeat(11),
        role: 'teller',
      });
      expectFieldError(short, 'password');
      const username = uniqueName('pw');
      const ok = await post({ username, password: 'b'.repeat(12), role: 'teller' });
      expect(ok.status).toBe(201);
      await t.login(username, 'b'.repeat(12));
    });

    it('a password of 129 characters is 400; 128 is accepted', async () => {
      const long = await post({
        username: uniqueName('pw'),
        password: 'a'.repeat(129),
        role: 'teller',
      });
      expectFieldError(long, 'password');
      const username = uniqueName('pw');
      const ok = await post({ username, password: 'c'.repeat(128), role: 'teller' });
      expect(ok.status).toBe(201);
      await t.login(username, 'c'.repeat(128));
    });

    it('a huge password is 400 and the user is not created', async () => {
      const username = uniqueName('huge');
      const res = await post({ username, password: 'h'.repeat(50_000), role: 'teller' });
      expectFieldError(res, 'password');
      expect((await allUsers()).map((u) => u.username)).not.toContain(username);
    });

    it('a customer without clientId is 400', async () => {
      const username = uniqueName('cust');
      const res = await post({ username, password: USER_PASSWORD, role: 'customer' });
      expectFieldError(res, 'clientId');
      expect((await allUsers()).map((u) => u.username)).not.toContain(username);
    });

    it('a teller with a clientId is 400', async () => {
      const clientId = await insertClient(t);
      const username = uniqueName('teller');
      const res = await post({ username, password: USER_PASSWORD, role: 'teller', clientId });
      expectFieldError(res, 'clientId');
      expect((await allUsers()).map((u) => u.username)).not.toContain(username);
    });

    it('an admin with a clientId is 400', async () => {
      const clientId = await insertClient(t);
      const res = await post({
        username: uniqueName('admin'),
        password: USER_PASSWORD,
        role: 'admin',
        clientId,
      });
      expectFieldError(res, 'clientId');
    });

    it('a customer with an unknown clientId is 400', async () => {
      const username = uniqueName('cust');
      const res = await post({
        username,
        password: USER_PASSWORD,
        role: 'customer',
        clientId: randomUUID(),
      });
      expectFieldError(res, 'clientId');
      expect((await allUsers()).map((u) => u.username)).not.toContain(username);
    });

    it('a malformed clientId is 400', async () => {
      const res = await post({
        username: uniqueName('cust'),
        password: USER_PASSWORD,
        role: 'customer',
        clientId: 'client-1',
      });
      expectFieldError(res, 'clientId');
    });

    it('an unknown role is 400', async () => {
      const res = await post({ username: uniqueName('x'), password: USER_PASSWORD, role: 'root' });
      expectFieldError(res, 'role');
    });

    it('a missing username is 400', async () => {
      const res = await post({ password: USER_PASSWORD, role: 'teller' });
      expectFieldError(res, 'username');
    });

    it('a customer with a real clientId is 201 and linked to it', async () => {
      const clientId = await insertClient(t);
      const username = uniqueName('cust');
      const res = await post({ username, password: USER_PASSWORD, role: 'customer', clientId });
      expect(res.status).toBe(201);
      expectUser(res.body, { username, role: 'customer', clientId, disabled: false });
      const pair = await t.login(username, USER_PASSWORD);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken));
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: res.body.id, username, role: 'customer', clientId });
    });
  });

  describe('GET /api/v1/users', () => {
    it('pages with {items, page, limit, total}', async () => {
      for (let i = 0; i < 3; i += 1) {
        await t.createUser(admin, { username: uniqueName('page'), role: 'teller' });
      }
      const all = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
      expect(all.status).toBe(200);
      const total: number = all.body.total;
      expect(total).toBeGreaterThanOrEqual(4);
      expect(all.body.items).toHaveLength(total);

      const first = await t.http.get('/api/v1/users?page=1&limit=2').set(bearer(admin));
      expect(first.status).toBe(200);
      expect(Object.keys(first.body).sort()).toEqual([
        'items',
        'limit',
        'nextCursor',
        'page',
        'total',
      ]);
      expect(first.body).toEqual(expect.objectContaining({ page: 1, limit: 2, total }));
      expect(first.body.items).toHaveLength(2);
      first.body.items.forEach((u: Record<string, unknown>) => expectUser(u, {}));

      const second = await t.http.get('/api/v1/users?page=2&limit=2').set(bearer(admin));
      expect(second.status).toBe(200);
      expect(second.body).toEqual(expect.objectContaining({ page: 2, limit: 2, total }));
      expect(second.body.items).toHaveLength(2);
      const firstIds = first.body.items.map((u: { id: string }) => u.id);
      const secondIds = second.body.items.map((u: { id: string }) => u.id);
      expect(firstIds.filter((id: string) => secondIds.includes(id))).toEqual([]);

      const beyond = await t.http.get(`/api/v1/users?page=${total + 1}&limit=1`).set(bearer(admin));
      expect(beyond.status).toBe(200);
      expect(beyond.body).toEqual({
        items: [],
        page: total + 1,
        limit: 1,
        total,
        nextCursor: null,
      });
    });

    it('defaults to page 1, limit 20', async () => {
      const res = await t.http.get('/api/v1/users').set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body.page).toBe(1);
      expect(res.body.limit).toBe(20);
      expect(res.body.items.length).toBe(Math.min(20, res.body.total));
    });

    it('accepts limit 100 and 1', async () => {
      const hundred = await t.http.get('/api/v1/users?limit=100').set(bearer(admin));
      expect(hundred.status).toBe(200);
      expect(hundred.body.limit).toBe(100);
      const one = await t.http.get('/api/v1/users?limit=1').set(bearer(admin));
      expect(one.status).toBe(200);
      expect(one.body.items).toHaveLength(1);
    });

    it.each(['limit=101', 'limit=1000', 'limit=0', 'limit=-1', 'limit=abc', 'page=0', 'page=x'])(
      '?%s is 400',
      async (query) => {
        const res = await t.http.get(`/api/v1/users?${query}`).set(bearer(admin));
        expectProblem(res, 400, 'VALIDATION_FAILED');
      },
    );

    it('filters by role', async () => {
      const tellerId = await t.createUser(admin, {
        username: uniqueName('filter'),
        role: 'teller',
      });
      const res = await t.http.get('/api/v1/users?role=teller&limit=100').set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      expect(res.body.items.every((u: { role: string }) => u.role === 'teller')).toBe(true);
      expect(res.body.items.map((u: { id: string }) => u.id)).toContain(tellerId);
      expect(res.body.total).toBe(res.body.items.length);

      const admins = await t.http.get('/api/v1/users?role=admin&limit=100').set(bearer(admin));
      expect(admins.status).toBe(200);
      expect(admins.body.items.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      expect(admins.body.items.map((u: { username: string }) => u.username)).toContain('admin');
      expect(admins.body.items.map((u: { id: string }) => u.id)).not.toContain(tellerId);

      const everyone = await allUsers();
      expect(res.body.total).toBe(everyone.filter((u) => u.role === 'teller').length);
    });

    it('an invalid role filter is 400, not an empty list', async () => {
      const res = await t.http.get('/api/v1/users?role=superuser').set(bearer(admin));
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /api/v1/users/:id', () => {
    it('returns the user', async () => {
      const username = uniqueName('get');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const res = await getUser(id);
      expect(res.status).toBe(200);
      expectUser(res.body, { id, username, role: 'teller', clientId: null, disabled: false });
    });

    it('an unknown id is 404 NOT_FOUND', async () => {
      const res = await getUser(randomUUID());
      expectProblem(res, 404, 'NOT_FOUND');
    });

    it('a malformed id is 400 VALIDATION_FAILED', async () => {
      const res = await getUser('12345');
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('lastLoginAt is null before the first login and set after a login', async () => {
      const username = uniqueName('last');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const before = await getUser(id);
      expect(before.body.lastLoginAt).toBeNull();

      const start = Date.now();
      await t.login(username, USER_PASSWORD);
      const after = await getUser(id);
      expect(after.status).toBe(200);
      expect(after.body.lastLoginAt).toMatch(ISO_UTC);
      const at = Date.parse(after.body.lastLoginAt);
      expect(at).toBeGreaterThanOrEqual(Date.parse(after.body.createdAt));
      expect(Math.abs(at - start)).toBeLessThan(60_000);

      // That login, an hour ago: the next one must move lastLoginAt forward again.
      await t.app
        .get(DataSource)
        .query(`UPDATE users SET last_login_at = last_login_at - interval '1 hour' WHERE id = $1`, [
          id,
        ]);
      expect(Date.parse((await getUser(id)).body.lastLoginAt)).toBe(at - 3_600_000);
      await t.login(username, USER_PASSWORD);
      const again = await getUser(id);
      expect(Date.parse(again.body.lastLoginAt)).toBeGreaterThanOrEqual(at);
    });

    it('a failed login does not set lastLoginAt', async () => {
      const username = uniqueName('fail');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username, password: 'not-the-password' });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
      expect((await getUser(id)).body.lastLoginAt).toBeNull();
    });
  });

  describe('PATCH /api/v1/users/:id', () => {
    it('a promotion to admin applies at the next request, with the same token', async () => {
      const username = uniqueName('promo');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const { accessToken } = await t.login(username, USER_PASSWORD);

      const before = await t.http.get('/api/v1/users').set(bearer(accessToken));
      expectProblem(before, 403, 'FORBIDDEN');

      const res = await patch(id, { role: 'admin' });
      expect(res.status).toBe(200);
      expectUser(res.body, { id, username, role: 'admin', clientId: null });

      const after = await t.http.get('/api/v1/users').set(bearer(accessToken));
      expect(after.status).toBe(200);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(accessToken));
      expect(me.body.role).toBe('admin');
      expect((await getUser(id)).body.role).toBe('admin');
    });

    it('a demotion from admin applies at the next request, with the same token', async () => {
      const username = uniqueName('demo');
      const id = await t.createUser(admin, { username, role: 'admin' });
      const { accessToken } = await t.login(username, USER_PASSWORD);
      expect((await t.http.get('/api/v1/users').set(bearer(accessToken))).status).toBe(200);

      const res = await patch(id, { role: 'teller' });
      expect(res.status).toBe(200);
      expect(res.body.role).toBe('teller');

      const after = await t.http.get('/api/v1/users').set(bearer(accessToken));
      expectProblem(after, 403, 'FORBIDDEN');
      const me = await t.http.get('/api/v1/auth/me').set(bearer(accessToken));
      expect(me.status).toBe(200);
      expect(me.body.role).toBe('teller');
    });

    it('disabling revokes the access and refresh tokens at once and blocks login', async () => {
      const username = uniqueName('dis');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const pair = await t.login(username, USER_PASSWORD);
      expect((await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken))).status).toBe(200);

      const res = await patch(id, { disabled: true });
      expect(res.status).toBe(200);
      expectUser(res.body, { id, username, disabled: true });

      const me = await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken));
      expectProblem(me, 401, me.body.code);
      const refresh = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: pair.refreshToken });
      expect(refresh.status).toBe(401);
      const login = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username, password: USER_PASSWORD });
      expectProblem(login, 401, 'INVALID_CREDENTIALS');
      expect((await getUser(id)).body.disabled).toBe(true);
    });

    it('re-enabling allows a new login but does not revive the old tokens', async () => {
      const username = uniqueName('reen');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const pair = await t.login(username, USER_PASSWORD);
      expect((await patch(id, { disabled: true })).status).toBe(200);
      const res = await patch(id, { disabled: false });
      expect(res.status).toBe(200);
      expect(res.body.disabled).toBe(false);

      expect((await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken))).status).toBe(401);
      const refresh = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: pair.refreshToken });
      expect(refresh.status).toBe(401);
      const fresh = await t.login(username, USER_PASSWORD);
      expect((await t.http.get('/api/v1/auth/me').set(bearer(fresh.accessToken))).status).toBe(200);
    });

    it('a new password revokes the sessions; the new password works, the old does not', async () => {
      const username = uniqueName('pwd');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const pair = await t.login(username, USER_PASSWORD);
      const newPassword = 'a-brand-new-password-123';

      const res = await patch(id, { password: newPassword });
      expect(res.status).toBe(200);
      expectUser(res.body, { id, username, role: 'teller', disabled: false });

      expect((await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken))).status).toBe(401);
      const refresh = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: pair.refreshToken });
      expect(refresh.status).toBe(401);

      const old = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', freshAddress())
        .send({ username, password: USER_PASSWORD });
      expectProblem(old, 401, 'INVALID_CREDENTIALS');
      const fresh = await t.login(username, newPassword);
      expect((await t.http.get('/api/v1/auth/me').set(bearer(fresh.accessToken))).status).toBe(200);
    });

    it('a password outside 12..128 is 400 and changes nothing', async () => {
      const username = uniqueName('pwbad');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const pair = await t.login(username, USER_PASSWORD);
      expectFieldError(await patch(id, { password: 'short' }), 'password');
      expectFieldError(await patch(id, { password: 'x'.repeat(129) }), 'password');
      expect((await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken))).status).toBe(200);
      await t.login(username, USER_PASSWORD);
    });

    it('making a teller a customer needs a real clientId', async () => {
      const username = uniqueName('tocust');
      const id = await t.createUser(admin, { username, role: 'teller' });
      expectFieldError(await patch(id, { role: 'customer' }), 'clientId');
      expectFieldError(await patch(id, { role: 'customer', clientId: randomUUID() }), 'clientId');
      expect((await getUser(id)).body).toEqual(
        expect.objectContaining({ role: 'teller', clientId: null }),
      );

      const clientId = await insertClient(t);
      const res = await patch(id, { role: 'customer', clientId });
      expect(res.status).toBe(200);
      expectUser(res.body, { id, role: 'customer', clientId });
      expect((await getUser(id)).body).toEqual(
        expect.objectContaining({ role: 'customer', clientId }),
      );
    });

    it('making a customer staff requires dropping the clientId', async () => {
      const clientId = await insertClient(t);
      const id = await t.createUser(admin, {
        username: uniqueName('tostaff'),
        role: 'customer',
        clientId,
      });
      expectFieldError(await patch(id, { role: 'teller' }), 'clientId');
      expect((await getUser(id)).body).toEqual(
        expect.objectContaining({ role: 'customer', clientId }),
      );

      const res = await patch(id, { role: 'teller', clientId: null });
      expect(res.status).toBe(200);
      expectUser(res.body, { id, role: 'teller', clientId: null });
    });

    it('a customer cannot be moved to an unknown client', async () => {
      const clientId = await insertClient(t);
      const id = await t.createUser(admin, {
        username: uniqueName('move'),
        role: 'customer',
        clientId,
      });
      expectFieldError(await patch(id, { clientId: randomUUID() }), 'clientId');
      expectFieldError(await patch(id, { clientId: null }), 'clientId');
      expect((await getUser(id)).body.clientId).toBe(clientId);

      const other = await insertClient(t);
      const res = await patch(id, { clientId: other });
      expect(res.status).toBe(200);
      expect(res.body.clientId).toBe(other);
    });

    it('staff cannot be given a clientId', async () => {
      const clientId = await insertClient(t);
      const id = await t.createUser(admin, { username: uniqueName('staffc'), role: 'teller' });
      expectFieldError(await patch(id, { clientId }), 'clientId');
      expect((await getUser(id)).body.clientId).toBeNull();
    });

    it('unknown fields are 400 and change nothing', async () => {
      const username = uniqueName('unk');
      const id = await t.createUser(admin, { username, role: 'teller' });
      const res = await patch(id, { username: 'renamed', role: 'admin' });
      expectFieldError(res, 'username');
      expect((await getUser(id)).body).toEqual(
        expect.objectContaining({ username, role: 'teller' }),
      );
    });

    it('an invalid role or disabled value is 400', async () => {
      const id = await t.createUser(admin, { username: uniqueName('inv'), role: 'teller' });
      expectFieldError(await patch(id, { role: 'root' }), 'role');
      expectFieldError(await patch(id, { disabled: 'yes' }), 'disabled');
      expect((await getUser(id)).body).toEqual(
        expect.objectContaining({ role: 'teller', disabled: false }),
      );
    });

    it('an unknown id is 404, a malformed one 400', async () => {
      expectProblem(await patch(randomUUID(), { disabled: true }), 404, 'NOT_FOUND');
      expectProblem(await patch('nope', { disabled: true }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('access', () => {
    it('without a token every users route is 401', async () => {
      const id = randomUUID();
      const responses = await Promise.all([
        t.http
          .post('/api/v1/users')
          .send({ username: 'x', password: USER_PASSWORD, role: 'teller' }),
        t.http.get('/api/v1/users'),
        t.http.get(`/api/v1/users/${id}`),
        t.http.patch(`/api/v1/users/${id}`).send({ disabled: true }),
      ]);
      for (const res of responses) expectProblem(res, 401, 'UNAUTHENTICATED');
    });

    it.each(['teller', 'customer'])(
      'a %s gets 403 FORBIDDEN on every users route and changes nothing',
      async (role) => {
        const clientId = role === 'customer' ? await insertClient(t) : undefined;
        const username = uniqueName(role);
        const selfId = await t.createUser(admin, { username, role, clientId });
        const victimName = uniqueName('victim');
        const victimId = await t.createUser(admin, { username: victimName, role: 'teller' });
        const { accessToken } = await t.login(username, USER_PASSWORD);
        const newName = uniqueName('made');

        const responses = [
          await post({ username: newName, password: USER_PASSWORD, role: 'admin' }, accessToken),
          await t.http.get('/api/v1/users').set(bearer(accessToken)),
          await t.http.get('/api/v1/users?role=admin').set(bearer(accessToken)),
          await getUser(victimId, accessToken),
          await getUser(selfId, accessToken),
          await getUser(randomUUID(), accessToken),
          await patch(victimId, { disabled: true }, accessToken),
          await patch(selfId, { role: 'admin', clientId: null }, accessToken),
        ];
        for (const res of responses) expectProblem(res, 403, 'FORBIDDEN');

        const users = await allUsers();
        expect(users.map((u) => u.username)).not.toContain(newName);
        expect((await getUser(victimId)).body.disabled).toBe(false);
        expect((await getUser(selfId)).body.role).toBe(role);
        const me = await t.http.get('/api/v1/auth/me').set(bearer(accessToken));
        expect(me.body.role).toBe(role);
      },
    );
  });
});

describe('users: the last active admin', () => {
  let t: TestApp;

  // Each test on a database of its own, where "admin" is the only admin: which admin is the
  // last one depends on every admin there is, so no test may inherit another's.
  beforeEach(async () => {
    t = await TestApp.start();
  });
  afterEach(async () => {
    await t.close();
  });

  async function adminId(token: string): Promise<string> {
    const me = await t.http.get('/api/v1/auth/me').set(bearer(token));
    expect(me.status).toBe(200);
    return me.body.id;
  }

  it('cannot demote or disable themselves (409), and stays admin', async () => {
    const token = await t.adminToken();
    const id = await adminId(token);

    const demote = await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(token))
      .send({ role: 'teller' });
    expectProblem(demote, 409, 'CONFLICT');
    const disable = await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(token))
      .send({ disabled: true });
    expectProblem(disable, 409, 'CONFLICT');

    const list = await t.http.get('/api/v1/users').set(bearer(token));
    expect(list.status).toBe(200);
    const me = await t.http.get(`/api/v1/users/${id}`).set(bearer(token));
    expect(me.body).toEqual(expect.objectContaining({ role: 'admin', disabled: false }));
    await t.login('admin', ADMIN_PASSWORD);
  });

  it('a disabled admin does not count as another active admin', async () => {
    const token = await t.adminToken();
    const id = await adminId(token);
    const otherId = await t.createUser(token, { username: 'dormant-admin', role: 'admin' });
    const off = await t.http
      .patch(`/api/v1/users/${otherId}`)
      .set(bearer(token))
      .send({ disabled: true });
    expect(off.status).toBe(200);

    const demote = await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(token))
      .send({ role: 'teller' });
    expectProblem(demote, 409, 'CONFLICT');
    expect((await t.http.get(`/api/v1/users/${id}`).set(bearer(token))).body.role).toBe('admin');
  });

  it('with another active admin, an admin may step down; the other is then the last', async () => {
    const token = await t.adminToken();
    const id = await adminId(token);
    const secondId = await t.createUser(token, { username: 'second-admin', role: 'admin' });
    const second = (await t.login('second-admin', USER_PASSWORD)).accessToken;

    const demote = await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(token))
      .send({ role: 'teller' });
    expect(demote.status).toBe(200);
    expect(demote.body.role).toBe('teller');
    expectProblem(await t.http.get('/api/v1/users').set(bearer(token)), 403, 'FORBIDDEN');

    const disableSelf = await t.http
      .patch(`/api/v1/users/${secondId}`)
      .set(bearer(second))
      .send({ disabled: true });
    expectProblem(disableSelf, 409, 'CONFLICT');
    const demoteSelf = await t.http
      .patch(`/api/v1/users/${secondId}`)
      .set(bearer(second))
      .send({ role: 'teller' });
    expectProblem(demoteSelf, 409, 'CONFLICT');
    const still = await t.http.get(`/api/v1/users/${secondId}`).set(bearer(second));
    expect(still.status).toBe(200);
    expect(still.body).toEqual(expect.objectContaining({ role: 'admin', disabled: false }));
  });

  it('two admins stepping down at the same moment never leave no active admin', async () => {
    let last = { name: 'admin', token: await t.adminToken() };
    for (let round = 0; round < 5; round += 1) {
      const name = `race-admin-${round}`;
      await t.createUser(last.token, { username: name, role: 'admin' });
      const other = { name, token: (await t.login(name, USER_PASSWORD)).accessToken };
      const ids = await Promise.all([adminId(last.token), adminId(other.token)]);
      const results = await Promise.all([
        t.http.patch(`/api/v1/users/${ids[0]}`).set(bearer(last.token)).send({ role: 'teller' }),
        t.http.patch(`/api/v1/users/${ids[1]}`).set(bearer(other.token)).send({ role: 'teller' }),
      ]);
      expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
      const still = results[0].status === 200 ? other : last;
      const admins = await t.http
        .get('/api/v1/users?role=admin&limit=100')
        .set(bearer(still.token));
      expect(admins.status).toBe(200);
      const active = admins.body.items.filter((u: { disabled: boolean }) => !u.disabled);
      expect(active.length).toBeGreaterThanOrEqual(1);
      last = still;
    }
  });
});
