/**
 * Authentication and user management in the audit log: every login, failed
 * or throttled login, refresh reuse, logout, revocation, password change and
 * user change is recorded with who, what, the outcome, the caller's address
 * and the request's X-Request-Id; customers see their own auth.* events; no
 * password or token ever reaches the table.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ADMIN_PASSWORD, bearer, freshAddress, TestApp, USER_PASSWORD } from './helpers/app';
import { createClient, uniqueName } from './helpers/banking';

interface ShownEvent {
  id: string;
  type: string;
  actor: { id: string; username: string; role: string } | null;
  subject: { type: string; id: string } | null;
  outcome: string;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

describe('the audit log of authentication and users', () => {
  let t: TestApp;
  let admin: string;
  let adminId: string;
  let db: DataSource;
  /** Every password and token this file sends: none may reach audit_events. */
  const secrets = new Set<string>([ADMIN_PASSWORD, USER_PASSWORD]);

  beforeAll(async () => {
    t = await TestApp.start();
    const pair = await t.login('admin', ADMIN_PASSWORD);
    admin = pair.accessToken;
    secrets.add(pair.accessToken).add(pair.refreshToken);
    adminId = (await t.http.get('/api/v1/auth/me').set(bearer(admin)).expect(200)).body.id;
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  const rid = () => `audit-auth-${randomUUID()}`;

  /** The one event of `type` the request `requestId` recorded. */
  const eventOf = async (type: string, requestId: string): Promise<ShownEvent> => {
    const res = await t.http
      .get(`/api/v1/audit-events?type=${type}&limit=100`)
      .set(bearer(admin))
      .expect(200);
    const found = (res.body.items as ShownEvent[]).filter((e) => e.requestId === requestId);
    expect(found).toHaveLength(1);
    expect(found[0].ip).not.toBeNull();
    return found[0];
  };

  const login = async (username: string, password: string, requestId = rid()) => {
    secrets.add(password);
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', freshAddress())
      .set('X-Request-Id', requestId)
      .send({ username, password });
    if (res.status === 200) secrets.add(res.body.accessToken).add(res.body.refreshToken);
    return res;
  };

  const newUser = async (role = 'teller', clientId?: string) => {
    const username = uniqueName(role.slice(0, 4));
    const id = await t.createUser(admin, { username, role, clientId });
    const pair = (await login(username, USER_PASSWORD)).body as {
      accessToken: string;
      refreshToken: string;
    };
    return { id, username, role, ...pair };
  };

  it('records a login with the user as actor and the session as subject', async () => {
    const u = await newUser();
    const requestId = rid();
    const res = await login(u.username, USER_PASSWORD, requestId);
    expect(res.status).toBe(200);
    const sid = (await t.http.get('/api/v1/auth/sessions').set(bearer(res.body.accessToken)))
      .body as Array<{ id: string; current: boolean }>;
    const e = await eventOf('auth.login.succeeded', requestId);
    expect(e).toMatchObject({
      actor: { id: u.id, username: u.username, role: 'teller' },
      subject: { type: 'session', id: sid.find((s) => s.current)!.id },
      outcome: 'succeeded',
      reason: null,
      requestId,
    });
  });

  it('records a login through the simplejwt route too', async () => {
    const u = await newUser();
    const requestId = rid();
    const res = await t.http
      .post('/api/token/')
      .set('X-Request-Id', requestId)
      .set('X-Forwarded-For', freshAddress())
      .send({ username: u.username, password: USER_PASSWORD })
      .expect(200);
    secrets.add(res.body.access).add(res.body.refresh);
    const e = await eventOf('auth.login.succeeded', requestId);
    expect(e.actor).toMatchObject({ id: u.id });
  });

  it('records a failed login apart: the user as subject when the name is one, no one otherwise', async () => {
    const u = await newUser();
    const known = rid();
    expect((await login(u.username, 'a-wrong-password-1', known)).status).toBe(401);
    expect(await eventOf('auth.login.failed', known)).toMatchObject({
      actor: null,
      subject: { type: 'user', id: u.id },
      outcome: 'failed',
      reason: 'INVALID_CREDENTIALS',
      data: { username: u.username },
      requestId: known,
    });
    const unknown = rid();
    expect((await login(uniqueName('nobody'), 'a-wrong-password-2', unknown)).status).toBe(401);
    expect(await eventOf('auth.login.failed', unknown)).toMatchObject({
      actor: null,
      subject: null,
      outcome: 'failed',
      reason: 'INVALID_CREDENTIALS',
      data: {},
    });
  });

  it('records a throttled login apart', async () => {
    const u = await newUser();
    const address = freshAddress();
    const attempt = (requestId: string) =>
      t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', address)
        .set('X-Request-Id', requestId)
        .send({ username: u.username, password: 'a-wrong-password-3' });
    for (let i = 0; i < 5; i++) expect((await attempt(rid())).status).toBe(401);
    const requestId = rid();
    expect((await attempt(requestId)).status).toBe(429);
    expect(await eventOf('auth.login.throttled', requestId)).toMatchObject({
      actor: null,
      subject: { type: 'user', id: u.id },
      outcome: 'failed',
      reason: 'TOO_MANY_REQUESTS',
      requestId,
    });
  });

  it('records a reused refresh token, with its session as subject', async () => {
    const u = await newUser();
    const sid = (
      (await t.http.get('/api/v1/auth/sessions').set(bearer(u.accessToken))).body as Array<{
        id: string;
        current: boolean;
      }>
    ).find((s) => s.current)!.id;
    const first = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: u.refreshToken })
      .expect(200);
    secrets.add(first.body.accessToken).add(first.body.refreshToken);
    const second = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: first.body.refreshToken })
      .expect(200);
    secrets.add(second.body.accessToken).add(second.body.refreshToken);
    const requestId = rid();
    const reuse = await t.http
      .post('/api/v1/auth/refresh')
      .set('X-Request-Id', requestId)
      .send({ refreshToken: u.refreshToken });
    expect(reuse.body.code).toBe('REFRESH_TOKEN_REUSED');
    expect(await eventOf('auth.refresh.reused', requestId)).toMatchObject({
      actor: { id: u.id, username: u.username, role: 'teller' },
      subject: { type: 'session', id: sid },
      outcome: 'refused',
      reason: 'REFRESH_TOKEN_REUSED',
      requestId,
    });
  });

  it('records logout, logout-all and the revocation of one session', async () => {
    const u = await newUser();
    const other = (await login(u.username, USER_PASSWORD)).body as { accessToken: string };
    const sessions = (await t.http.get('/api/v1/auth/sessions').set(bearer(other.accessToken)))
      .body as Array<{ id: string; current: boolean }>;
    const firstSession = sessions.find((s) => !s.current)!.id;
    const actor = { id: u.id, username: u.username, role: 'teller' };

    const revoked = rid();
    await t.http
      .delete(`/api/v1/auth/sessions/${firstSession}`)
      .set(bearer(other.accessToken))
      .set('X-Request-Id', revoked)
      .expect(204);
    expect(await eventOf('auth.session.revoked', revoked)).toMatchObject({
      actor,
      subject: { type: 'session', id: firstSession },
      outcome: 'succeeded',
      requestId: revoked,
    });

    const third = (await login(u.username, USER_PASSWORD)).body as { accessToken: string };
    const thirdSession = (
      (await t.http.get('/api/v1/auth/sessions').set(bearer(third.accessToken))).body as Array<{
        id: string;
        current: boolean;
      }>
    ).find((s) => s.current)!.id;
    const out = rid();
    await t.http
      .post('/api/v1/auth/logout')
      .set(bearer(third.accessToken))
      .set('X-Request-Id', out)
      .expect(204);
    expect(await eventOf('auth.logout', out)).toMatchObject({
      actor,
      subject: { type: 'session', id: thirdSession },
      outcome: 'succeeded',
      requestId: out,
    });

    const all = rid();
    await t.http
      .post('/api/v1/auth/logout-all')
      .set(bearer(other.accessToken))
      .set('X-Request-Id', all)
      .expect(204);
    expect(await eventOf('auth.logout', all)).toMatchObject({
      actor,
      subject: { type: 'user', id: u.id },
      outcome: 'succeeded',
      data: { allSessions: true },
      requestId: all,
    });
  });

  it('records a password change, and a wrong current password apart', async () => {
    const u = await newUser();
    const actor = { id: u.id, username: u.username, role: 'teller' };
    const newPassword = `new-password-${randomUUID()}`;
    secrets.add(newPassword);
    const wrong = rid();
    const refused = await t.http
      .post('/api/v1/auth/password')
      .set(bearer(u.accessToken))
      .set('X-Request-Id', wrong)
      .send({ currentPassword: 'not-the-password-4', newPassword });
    expect(refused.status).toBe(403);
    secrets.add('not-the-password-4');
    expect(await eventOf('auth.password.changed', wrong)).toMatchObject({
      actor,
      subject: { type: 'user', id: u.id },
      outcome: 'failed',
      reason: 'WRONG_PASSWORD',
      requestId: wrong,
    });
    const right = rid();
    await t.http
      .post('/api/v1/auth/password')
      .set(bearer(u.accessToken))
      .set('X-Request-Id', right)
      .send({ currentPassword: USER_PASSWORD, newPassword })
      .expect(204);
    expect(await eventOf('auth.password.changed', right)).toMatchObject({
      actor,
      subject: { type: 'user', id: u.id },
      outcome: 'succeeded',
      reason: null,
      data: {},
      requestId: right,
    });
  });

  it('records user.created and user.updated with what changed, never the password', async () => {
    const adminActor = { id: adminId, username: 'admin', role: 'admin' };
    const client = await createClient(t, admin);
    const username = uniqueName('cust');
    const created = rid();
    const res = await t.http
      .post('/api/v1/users')
      .set(bearer(admin))
      .set('X-Request-Id', created)
      .send({ username, password: USER_PASSWORD, role: 'customer', clientId: client.id })
      .expect(201);
    const id = res.body.id as string;
    expect(await eventOf('user.created', created)).toMatchObject({
      actor: adminActor,
      subject: { type: 'user', id },
      outcome: 'succeeded',
      data: { username, role: 'customer', clientId: client.id },
      requestId: created,
    });

    const resetPassword = `reset-password-${randomUUID()}`;
    secrets.add(resetPassword);
    const reset = rid();
    await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(admin))
      .set('X-Request-Id', reset)
      .send({ password: resetPassword })
      .expect(200);
    const resetEvent = await eventOf('user.updated', reset);
    expect(resetEvent).toMatchObject({
      actor: adminActor,
      subject: { type: 'user', id },
      data: { passwordReset: true },
      requestId: reset,
    });
    expect(Object.keys(resetEvent.data)).toEqual(['passwordReset']);

    const changed = rid();
    await t.http
      .patch(`/api/v1/users/${id}`)
      .set(bearer(admin))
      .set('X-Request-Id', changed)
      .send({ role: 'teller', clientId: null, disabled: true })
      .expect(200);
    expect((await eventOf('user.updated', changed)).data).toEqual({
      role: 'teller',
      clientId: null,
      disabled: true,
    });
  });

  it('shows a customer its own auth.* events only', async () => {
    const client = await createClient(t, admin);
    const a = await newUser('customer', client.id);
    const b = await newUser('customer', client.id);
    expect((await login(a.username, 'a-wrong-password-5')).status).toBe(401);
    await t.http.post('/api/v1/auth/logout').set(bearer(b.accessToken)).expect(204);
    const res = await t.http
      .get('/api/v1/auth/events?limit=100')
      .set(bearer(a.accessToken))
      .expect(200);
    const events = res.body.items as ShownEvent[];
    expect(events.map((e) => e.type).sort()).toEqual(
      ['auth.login.failed', 'auth.login.succeeded'].sort(),
    );
    for (const e of events) {
      expect(e.type.startsWith('auth.')).toBe(true);
      expect(e.actor?.id === a.id || e.subject?.id === a.id).toBe(true);
      expect(e).not.toHaveProperty('hash');
    }
  });

  it('keeps no password, access token or refresh token anywhere in audit_events', async () => {
    const rows = await db.query<Array<{ t: string }>>(`SELECT t::text AS t FROM audit_events t`);
    expect(rows.length).toBeGreaterThan(10);
    expect(secrets.size).toBeGreaterThan(20);
    const text = rows.map((r) => r.t).join('\n');
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  });
});
