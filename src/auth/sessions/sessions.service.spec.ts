import { DataSource } from 'typeorm';
import { newTestService, refusalOf } from '../../test-utils/new-test-service';
import { Role } from '../../identity/role';
import { AuthUser } from '../auth-user';
import { Caller } from '../caller';
import { MeRow } from '../session-sql';
import { SessionState, SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { TokensService } from '../tokens/tokens.service';

const SESSION = '11111111-2222-4333-8444-555555555555';
const user: AuthUser = {
  id: 'user-1',
  username: 'carol',
  role: Role.Customer,
  clientId: 'client-1',
  sessionId: SESSION,
};
const me: MeRow = {
  me_id: 'user-1',
  me_username: 'carol',
  me_role: Role.Customer,
  me_client_id: 'client-1',
};

/** Refresh tokens of the fake TokensService: `rt.<session>.<generation>`. */
const token = (generation: number, session = SESSION) => `rt.${session}.${generation}`;
const hash = (t: string) => Buffer.from(`hash of ${t}`);

const state = (o: Partial<SessionState> = {}): SessionState => ({
  user_id: 'user-1',
  username: 'carol',
  role: Role.Customer,
  refresh_generation: 4,
  expires_in: 120,
  live: true,
  in_grace: false,
  ...o,
});

function setup() {
  const { sut, mocks } = newTestService(SessionsService);
  const tokens = mocks.get(TokensService);
  tokens.refreshToken.mockImplementation((sessionId, generation) => token(generation, sessionId));
  tokens.hashRefresh.mockImplementation(hash);
  tokens.parseRefresh.mockImplementation((t) => {
    const [kind, sessionId, generation] = t.split('.');
    return kind === 'rt' ? { sessionId, generation: Number(generation) } : null;
  });
  return { sut, mocks, tokens, sessions: mocks.get(SessionsRepository) };
}

describe('SessionsService', () => {
  describe('create', () => {
    it('stores a new session with the hash of its first refresh token, never the token', async () => {
      const { sut, mocks, sessions } = setup();
      const issued = await sut.create('user-1', 'curl/8', '203.0.113.7');

      const refreshTtl = mocks.config.jwt.refreshTtl;
      expect(issued).toEqual({
        userId: 'user-1',
        sessionId: expect.any(String),
        refreshToken: token(0, issued.sessionId),
        expiresIn: refreshTtl,
      });
      expect(sessions.insert).toHaveBeenCalledWith({
        id: issued.sessionId,
        userId: 'user-1',
        ttl: refreshTtl,
        refreshHash: hash(issued.refreshToken),
        userAgent: 'curl/8',
        ip: '203.0.113.7',
      });
    });

    it('keeps at most 512 characters of the user agent, and null for none', async () => {
      const { sut, sessions } = setup();
      await sut.create('user-1', 'x'.repeat(600), '::1');
      await sut.create('user-1', undefined, '::1');
      const agents = sessions.insert.mock.calls.map(([s]) => s.userAgent);
      expect(agents).toEqual(['x'.repeat(512), null]);
    });
  });

  describe('rotate', () => {
    it('refuses a token this server did not issue with TOKEN_INVALID, asking nothing of the database', async () => {
      const { sut, sessions } = setup();
      expect(await refusalOf(sut.rotate('forged'))).toMatchObject({
        status: 401,
        code: 'TOKEN_INVALID',
      });
      expect(sessions.rotate).not.toHaveBeenCalled();
      expect(sessions.state).not.toHaveBeenCalled();
    });

    it('rotates the live token into the next generation for the refresh lifetime', async () => {
      const { sut, mocks, sessions } = setup();
      sessions.rotate.mockResolvedValue('user-1');
      const refreshTtl = mocks.config.jwt.refreshTtl;

      expect(await sut.rotate(token(3))).toEqual({
        userId: 'user-1',
        sessionId: SESSION,
        refreshToken: token(4),
        expiresIn: refreshTtl,
      });
      expect(sessions.rotate).toHaveBeenCalledWith(
        SESSION,
        hash(token(3)),
        hash(token(4)),
        refreshTtl,
      );
      expect(sessions.state).not.toHaveBeenCalled();
    });

    it('refuses a token of a session that no longer exists or has ended with TOKEN_INVALID', async () => {
      for (const found of [
        undefined,
        state({ live: false, refresh_generation: 4, in_grace: true }),
      ]) {
        const { sut, sessions } = setup();
        sessions.rotate.mockResolvedValue(undefined);
        sessions.state.mockResolvedValue(found);
        expect(await refusalOf(sut.rotate(token(3)))).toMatchObject({
          status: 401,
          code: 'TOKEN_INVALID',
        });
        expect(sessions.revoke).not.toHaveBeenCalled();
      }
    });

    it('hands out the same successor again to a concurrent refresh within the grace window, for what is left of it', async () => {
      const { sut, mocks, sessions } = setup();
      sessions.rotate.mockResolvedValue(undefined);
      sessions.state.mockResolvedValue(
        state({ refresh_generation: 4, in_grace: true, expires_in: 77 }),
      );

      expect(await sut.rotate(token(3))).toEqual({
        userId: 'user-1',
        sessionId: SESSION,
        refreshToken: token(4),
        expiresIn: 77,
      });
      expect(sessions.state).toHaveBeenCalledWith(SESSION, mocks.config.jwt.refreshReuseGrace);
      expect(sessions.revoke).not.toHaveBeenCalled();
    });

    it('revokes the session and refuses with REFRESH_TOKEN_REUSED when a consumed token comes back after the grace window', async () => {
      const { sut, sessions } = setup();
      sessions.rotate.mockResolvedValue(undefined);
      sessions.state.mockResolvedValue(state({ refresh_generation: 4, in_grace: false }));
      expect(await refusalOf(sut.rotate(token(3)))).toMatchObject({
        status: 401,
        code: 'REFRESH_TOKEN_REUSED',
      });
      expect(sessions.revoke).toHaveBeenCalledWith(SESSION, 'refresh_reuse');
    });

    it('treats an older token as reuse even inside the grace window of a later rotation', async () => {
      const { sut, sessions } = setup();
      sessions.rotate.mockResolvedValue(undefined);
      sessions.state.mockResolvedValue(state({ refresh_generation: 4, in_grace: true }));
      expect(await refusalOf(sut.rotate(token(2)))).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
      expect(sessions.revoke).toHaveBeenCalledWith(SESSION, 'refresh_reuse');
    });

    it('refuses a token of the current or a later generation that did not rotate with TOKEN_INVALID, revoking nothing', async () => {
      for (const generation of [4, 5]) {
        const { sut, sessions } = setup();
        sessions.rotate.mockResolvedValue(undefined);
        sessions.state.mockResolvedValue(state({ refresh_generation: 4 }));
        expect(await refusalOf(sut.rotate(token(generation)))).toMatchObject({
          code: 'TOKEN_INVALID',
        });
        expect(sessions.revoke).not.toHaveBeenCalled();
      }
    });
  });

  describe('the per-request check', () => {
    it('answers the session’s user with its current role, or null when the session has ended', async () => {
      const { sut, sessions } = setup();
      sessions.check.mockResolvedValueOnce({ ...me, me_role: Role.Teller, me_client_id: null });
      expect(await sut.authenticate(SESSION, 'user-1')).toEqual({
        ...user,
        role: Role.Teller,
        clientId: null,
      });
      sessions.check.mockResolvedValueOnce(undefined);
      expect(await sut.authenticate(SESSION, 'user-1')).toBeNull();
      expect(sessions.check).toHaveBeenCalledWith(SESSION, 'user-1');
    });

    it('resolves a caller whose statement already checked its session without asking again', async () => {
      const { sut, sessions } = setup();
      const caller = new Caller('user-1', SESSION);
      caller.settle(me);
      expect(await sut.resolve(caller)).toEqual(user);
      expect(sessions.check).not.toHaveBeenCalled();
    });

    it('refuses to resolve a caller whose session has ended with TOKEN_INVALID', async () => {
      const { sut, sessions } = setup();
      sessions.check.mockResolvedValue(undefined);
      const caller = new Caller('user-1', SESSION);
      expect(await refusalOf(sut.resolve(caller))).toMatchObject({
        status: 401,
        code: 'TOKEN_INVALID',
      });
      expect(caller.checked).toBe(true);
    });

    it('refuses to resolve a caller whose role the route does not allow with FORBIDDEN', async () => {
      const { sut, sessions } = setup();
      sessions.check.mockResolvedValue(me);
      const caller = new Caller('user-1', SESSION);
      caller.roles = [Role.Admin, Role.Teller];
      expect(await refusalOf(sut.resolve(caller))).toMatchObject({
        status: 403,
        code: 'FORBIDDEN',
      });
    });
  });

  describe('findLiveRefresh', () => {
    it('answers null for a token this server did not issue, asking nothing of the database', async () => {
      const { sut, sessions } = setup();
      expect(await sut.findLiveRefresh('forged')).toBeNull();
      expect(sessions.findLiveRefresh).not.toHaveBeenCalled();
    });

    it('finds the live session by the token’s hash, else null', async () => {
      const { sut, sessions } = setup();
      const expiresAt = new Date('2026-02-01T00:00:00Z');
      sessions.findLiveRefresh.mockResolvedValueOnce({ user_id: 'user-1', expires_at: expiresAt });
      expect(await sut.findLiveRefresh(token(2))).toEqual({ userId: 'user-1', expiresAt });
      expect(sessions.findLiveRefresh).toHaveBeenCalledWith(SESSION, hash(token(2)));
      sessions.findLiveRefresh.mockResolvedValueOnce(undefined);
      expect(await sut.findLiveRefresh(token(2))).toBeNull();
    });
  });

  describe('revocation', () => {
    it('revokes every session of a user but the one kept (none kept when not given)', async () => {
      const { sut, mocks, sessions } = setup();
      await sut.revokeAll('user-1', 'password_changed', SESSION);
      expect(sessions.revokeAll).toHaveBeenCalledWith(
        mocks.get(DataSource).manager,
        'user-1',
        'password_changed',
        SESSION,
      );
      await sut.revokeAll('user-1', 'logout_all');
      expect(sessions.revokeAll).toHaveBeenLastCalledWith(
        expect.anything(),
        'user-1',
        'logout_all',
        null,
      );
    });

    it('revokes on the transaction it is given', async () => {
      const { sut, sessions } = setup();
      const em = { transaction: 'of the caller' } as never;
      await sut.revokeAll('user-1', 'user_disabled', null, em);
      expect(sessions.revokeAll).toHaveBeenCalledWith(em, 'user-1', 'user_disabled', null);
    });

    it('answers NOT_FOUND for deleting a session that is not the user’s own live one', async () => {
      const { sut, sessions } = setup();
      sessions.revokeOfUser.mockResolvedValue(false);
      expect(await refusalOf(sut.revokeOwn(user, 'session-x'))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(sessions.revokeOfUser).toHaveBeenCalledWith('session-x', 'user-1', 'deleted');
    });

    it('deletes one of the user’s own sessions', async () => {
      const { sut, sessions } = setup();
      sessions.revokeOfUser.mockResolvedValue(true);
      await expect(sut.revokeOwn(user, 'session-2')).resolves.toBeUndefined();
      expect(sessions.revokeOfUser).toHaveBeenCalledWith('session-2', 'user-1', 'deleted');
    });
  });

  it('lists the user’s live sessions and marks the one making the request', async () => {
    const { sut, sessions } = setup();
    const at = new Date('2026-01-01T00:00:00Z');
    const session = { createdAt: at, lastUsedAt: at, userAgent: null, ip: '::1' };
    sessions.live.mockResolvedValue([
      { id: 'session-2', ...session },
      { id: SESSION, ...session },
    ]);
    const list = await sut.list(user);
    expect(sessions.live).toHaveBeenCalledWith('user-1');
    expect(list.map((s) => [s.id, s.current])).toEqual([
      ['session-2', false],
      [SESSION, true],
    ]);
  });
});
