import { ApiError } from '../common/problem';
import { newTestService, refusalOf } from '../test-utils/new-test-service';
import { Role } from '../identity/role';
import { User } from '../identity/user.entity';
import { AuthUser } from './auth-user';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './login/credentials.repository';
import { LoginThrottleService } from './login/login-throttle.service';
import { PasswordService } from './login/password.service';
import { IssuedRefresh, SessionsService } from './sessions/sessions.service';
import { PASSWORD_THROTTLE } from './login/throttle-window';
import { TokensService } from './tokens/tokens.service';
import { AuditService } from '../audit/audit.service';

const origin = { ip: '203.0.113.7', userAgent: 'curl/8' };
const stored = (o: Partial<User> = {}): User =>
  Object.assign(new User(), {
    id: 'user-1',
    username: 'carol',
    passwordHash: '$argon2id$stored',
    role: Role.Customer,
    clientId: 'client-1',
    disabled: false,
    ...o,
  });
const issued: IssuedRefresh = {
  userId: 'user-1',
  sessionId: 'session-1',
  refreshToken: 'refresh-1',
  expiresIn: 1296000,
};
const user: AuthUser = {
  id: 'user-1',
  username: 'carol',
  role: Role.Customer,
  clientId: 'client-1',
  sessionId: 'session-1',
};
const attempt = { marker: 'attempt' } as never;

function setup() {
  const { sut, mocks } = newTestService(AuthService);
  const throttle = mocks.get(LoginThrottleService);
  throttle.begin.mockResolvedValue(attempt);
  const tokens = mocks.get(TokensService);
  tokens.signAccess.mockReturnValue('access-1');
  const sessions = mocks.get(SessionsService);
  sessions.create.mockResolvedValue(issued);
  return {
    sut,
    mocks,
    throttle,
    tokens,
    sessions,
    credentials: mocks.get(CredentialsRepository),
    passwords: mocks.get(PasswordService),
  };
}

describe('AuthService', () => {
  describe('login', () => {
    it('answers a token pair for the right password: a new session, its access token and the configured lifetimes', async () => {
      const { sut, mocks, credentials, passwords, throttle, sessions, tokens } = setup();
      credentials.findByUsername.mockResolvedValue(stored());
      passwords.verify.mockResolvedValue(true);

      const pair = await sut.login({ username: 'Carol', password: 'secret' }, origin);

      expect(throttle.begin).toHaveBeenCalledWith('Carol', origin.ip);
      expect(passwords.verify).toHaveBeenCalledWith('$argon2id$stored', 'secret');
      expect(throttle.succeeded).toHaveBeenCalledWith(attempt);
      expect(credentials.touchLastLogin).toHaveBeenCalledWith('user-1');
      expect(sessions.create).toHaveBeenCalledWith('user-1', 'curl/8', origin.ip);
      expect(tokens.signAccess).toHaveBeenCalledWith('user-1', 'session-1');
      expect(pair).toEqual({
        accessToken: 'access-1',
        refreshToken: 'refresh-1',
        tokenType: 'Bearer',
        expiresIn: mocks.config.jwt.accessTtl,
        refreshExpiresIn: 1296000,
      });
    });

    it('refuses a wrong password with INVALID_CREDENTIALS and opens no session', async () => {
      const { sut, credentials, passwords, throttle, sessions } = setup();
      credentials.findByUsername.mockResolvedValue(stored());
      passwords.verify.mockResolvedValue(false);
      expect(
        await refusalOf(sut.login({ username: 'carol', password: 'nope' }, origin)),
      ).toMatchObject({
        status: 401,
        code: 'INVALID_CREDENTIALS',
      });
      expect(throttle.succeeded).not.toHaveBeenCalled();
      expect(credentials.touchLastLogin).not.toHaveBeenCalled();
      expect(sessions.create).not.toHaveBeenCalled();
    });

    it('refuses an unknown user with INVALID_CREDENTIALS after the same password work', async () => {
      const { sut, credentials, passwords, sessions } = setup();
      credentials.findByUsername.mockResolvedValue(null);
      passwords.verify.mockResolvedValue(false);
      expect(
        await refusalOf(sut.login({ username: 'ghost', password: 'x' }, origin)),
      ).toMatchObject({
        status: 401,
        code: 'INVALID_CREDENTIALS',
      });
      expect(passwords.verify).toHaveBeenCalledWith(undefined, 'x');
      expect(sessions.create).not.toHaveBeenCalled();
    });

    it('refuses a disabled user with the right password with INVALID_CREDENTIALS', async () => {
      const { sut, credentials, passwords, throttle, sessions } = setup();
      credentials.findByUsername.mockResolvedValue(stored({ disabled: true }));
      passwords.verify.mockResolvedValue(true);
      expect(
        await refusalOf(sut.login({ username: 'carol', password: 'secret' }, origin)),
      ).toMatchObject({
        status: 401,
        code: 'INVALID_CREDENTIALS',
      });
      expect(throttle.succeeded).not.toHaveBeenCalled();
      expect(sessions.create).not.toHaveBeenCalled();
    });

    it('refuses a throttled attempt before hashing anything, and records it apart', async () => {
      const { sut, mocks, throttle, credentials, passwords } = setup();
      throttle.begin.mockRejectedValue(new ApiError('TOO_MANY_REQUESTS', 'Too many failed logins'));
      credentials.findByUsername.mockResolvedValue(stored());
      expect(
        await refusalOf(sut.login({ username: 'carol', password: 'x' }, origin)),
      ).toMatchObject({
        status: 429,
        code: 'TOO_MANY_REQUESTS',
      });
      expect(passwords.verify).not.toHaveBeenCalled();
      expect(mocks.get(AuditService).recordApart).toHaveBeenCalledWith({
        type: 'auth.login.throttled',
        actor: null,
        subject: { type: 'user', id: 'user-1' },
        outcome: 'failed',
        reason: 'TOO_MANY_REQUESTS',
        data: { username: 'carol' },
      });
    });
  });

  it('refreshes by rotating the refresh token into a new pair', async () => {
    const { sut, sessions } = setup();
    sessions.rotate.mockResolvedValue({ ...issued, refreshToken: 'refresh-2', expiresIn: 60 });
    expect(await sut.refresh('refresh-1')).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-2',
      refreshExpiresIn: 60,
    });
    expect(sessions.rotate).toHaveBeenCalledWith('refresh-1');
  });

  it('logs out the current session only, or every session of the user', async () => {
    const { sut, sessions } = setup();
    await sut.logout(user);
    expect(sessions.revoke).toHaveBeenCalledWith('session-1', 'logout');
    expect(sessions.revokeAll).not.toHaveBeenCalled();
    await sut.logoutAll(user);
    expect(sessions.revokeAll).toHaveBeenCalledWith('user-1', 'logout_all');
  });

  describe('verify', () => {
    it('answers a live refresh token as valid, with its user and expiry in seconds', async () => {
      const { sut, sessions, tokens } = setup();
      sessions.findLiveRefresh.mockResolvedValue({
        userId: 'user-1',
        expiresAt: new Date('2026-01-01T00:00:10.900Z'),
      });
      expect(await sut.verify('refresh-1')).toEqual({
        valid: true,
        type: 'refresh',
        sub: 'user-1',
        exp: Date.parse('2026-01-01T00:00:10Z') / 1000,
      });
      expect(tokens.verifyAccess).not.toHaveBeenCalled();
    });

    it('answers a valid access token of a live session as valid', async () => {
      const { sut, sessions, tokens } = setup();
      sessions.findLiveRefresh.mockResolvedValue(null);
      tokens.verifyAccess.mockReturnValue({ sub: 'user-1', sid: 'session-1', exp: 1700 } as never);
      sessions.authenticate.mockResolvedValue(user);
      expect(await sut.verify('access-1')).toEqual({
        valid: true,
        type: 'access',
        sub: 'user-1',
        exp: 1700,
      });
      expect(sessions.authenticate).toHaveBeenCalledWith('session-1', 'user-1');
    });

    it('refuses an access token whose session has ended with TOKEN_INVALID', async () => {
      const { sut, sessions, tokens } = setup();
      sessions.findLiveRefresh.mockResolvedValue(null);
      tokens.verifyAccess.mockReturnValue({ sub: 'user-1', sid: 'session-1', exp: 1700 } as never);
      sessions.authenticate.mockResolvedValue(null);
      expect(await refusalOf(sut.verify('access-1'))).toMatchObject({
        status: 401,
        code: 'TOKEN_INVALID',
      });
    });

    it('passes on the refusal of a bad access token without checking any session', async () => {
      const { sut, sessions, tokens } = setup();
      sessions.findLiveRefresh.mockResolvedValue(null);
      tokens.verifyAccess.mockImplementation(() => {
        throw new ApiError('TOKEN_EXPIRED', 'The access token has expired');
      });
      expect(await refusalOf(sut.verify('access-1'))).toMatchObject({
        status: 401,
        code: 'TOKEN_EXPIRED',
      });
      expect(sessions.authenticate).not.toHaveBeenCalled();
    });
  });

  it('answers who the caller is, and nothing of its session', () => {
    const { sut } = setup();
    expect(sut.me(user)).toEqual({
      id: 'user-1',
      username: 'carol',
      role: Role.Customer,
      clientId: 'client-1',
    });
  });

  describe('changePassword', () => {
    const dto = { currentPassword: 'old-password', newPassword: 'new-password-long' };

    it('refuses a wrong current password with WRONG_PASSWORD, changing nothing', async () => {
      const { sut, credentials, passwords, throttle, sessions } = setup();
      credentials.findById.mockResolvedValue(stored());
      passwords.verify.mockResolvedValue(false);
      expect(await refusalOf(sut.changePassword(user, dto, origin.ip))).toMatchObject({
        status: 403,
        code: 'WRONG_PASSWORD',
      });
      expect(throttle.succeeded).not.toHaveBeenCalled();
      expect(credentials.setPasswordHash).not.toHaveBeenCalled();
      expect(sessions.revokeAll).not.toHaveBeenCalled();
    });

    it('throttles guesses of the current password per user, under a name no username can take', async () => {
      const { sut, throttle, credentials } = setup();
      throttle.begin.mockRejectedValue(new ApiError('TOO_MANY_REQUESTS', 'Too many'));
      expect(await refusalOf(sut.changePassword(user, dto, origin.ip))).toMatchObject({
        code: 'TOO_MANY_REQUESTS',
      });
      expect(throttle.begin).toHaveBeenCalledWith('#password:user-1', origin.ip, PASSWORD_THROTTLE);
      expect(credentials.findById).not.toHaveBeenCalled();
    });

    it('stores the new password’s hash and ends every other session of the user, with its event, in one transaction', async () => {
      const { sut, mocks, credentials, passwords, throttle, sessions } = setup();
      credentials.findById.mockResolvedValue(stored());
      passwords.verify.mockResolvedValue(true);
      passwords.hash.mockResolvedValue('$argon2id$new');
      await sut.changePassword(user, dto, origin.ip);
      expect(passwords.verify).toHaveBeenCalledWith('$argon2id$stored', 'old-password');
      expect(throttle.succeeded).toHaveBeenCalledWith(attempt);
      expect(credentials.setPasswordHash).toHaveBeenCalledWith('user-1', '$argon2id$new', mocks.em);
      expect(sessions.revokeAll).toHaveBeenCalledWith(
        'user-1',
        'password_changed',
        'session-1',
        mocks.em,
      );
      expect(mocks.get(AuditService).record).toHaveBeenCalledWith(mocks.em, {
        type: 'auth.password.changed',
        actor: { id: 'user-1', username: 'carol', role: Role.Customer },
        subject: { type: 'user', id: 'user-1' },
      });
    });
  });
});
