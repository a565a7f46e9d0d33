import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { auditActor } from './auth-user';
import { CredentialsRepository } from './login/credentials.repository';
import { AuthUser } from './auth.decorators';
import { ApiError } from '../common/problem';
import { RequestOrigin } from '../common/request-origin';
import { AppConfig } from '../config/app-config';
import {
  ChangePasswordDto,
  LoginDto,
  MeDto,
  toMeDto,
  TokenPairDto,
  VerifyResultDto,
} from './dto/auth.dto';
import { LoginThrottleService } from './login/login-throttle.service';
import { PASSWORD_THROTTLE } from './login/throttle-window';
import { PasswordService } from './login/password.service';
import { IssuedRefresh, SessionsService } from './sessions/sessions.service';
import { TokensService } from './tokens/tokens.service';
import { invalidCredentials } from './auth.errors';

@Injectable()
export class AuthService {
  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly passwords: PasswordService,
    private readonly throttle: LoginThrottleService,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly db: DataSource,
  ) {}

  /**
   * Unknown user, disabled user and wrong password all answer the same, after
   * the same argon2 work. Throttled attempts are refused before any hashing.
   */
  async login(dto: LoginDto, origin: RequestOrigin): Promise<TokenPairDto> {
    let attempt;
    try {
      attempt = await this.throttle.begin(dto.username, origin.ip);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'TOO_MANY_REQUESTS') {
        await this.recordFailedLogin('auth.login.throttled', dto.username, 'TOO_MANY_REQUESTS');
      }
      throw error;
    }
    const user = await this.credentials.findByUsername(dto.username);
    const passwordOk = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !passwordOk || user.disabled) {
      await this.recordFailedLogin('auth.login.failed', user, 'INVALID_CREDENTIALS');
      throw invalidCredentials();
    }
    await this.throttle.succeeded(attempt);
    await this.credentials.touchLastLogin(user.id);
    const issued = await this.sessions.create(user.id, origin.userAgent, origin.ip);
    // The session is one autocommitted INSERT: its event follows it, on its own.
    await this.audit.recordApart({
      type: 'auth.login.succeeded',
      actor: auditActor(user),
      subject: { type: 'session', id: issued.sessionId },
    });
    return this.pair(issued);
  }

  /**
   * A refused login, in a transaction of its own (the request fails). The
   * user is named only when the username is one's: a mistyped password in
   * the username field is not kept.
   */
  private async recordFailedLogin(
    type: string,
    userOrName: { id: string; username: string } | string | null,
    reason: 'INVALID_CREDENTIALS' | 'TOO_MANY_REQUESTS',
  ): Promise<void> {
    const user =
      typeof userOrName === 'string'
        ? await this.credentials.findByUsername(userOrName)
        : userOrName;
    await this.audit.recordApart({
      type,
      actor: null,
      subject: user ? { type: 'user', id: user.id } : null,
      outcome: 'failed',
      reason,
      data: user ? { username: user.username } : {},
    });
  }

  async refresh(refreshToken: string): Promise<TokenPairDto> {
    return this.pair(await this.sessions.rotate(refreshToken));
  }

  /** One autocommitted UPDATE: its event is recorded after it, on its own. */
  async logout(user: AuthUser): Promise<void> {
    await this.sessions.revoke(user.sessionId, 'logout');
    await this.audit.recordApart({
      type: 'auth.logout',
      actor: auditActor(user),
      subject: { type: 'session', id: user.sessionId },
    });
  }

  /** One autocommitted UPDATE: its event is recorded after it, on its own. */
  async logoutAll(user: AuthUser): Promise<void> {
    await this.sessions.revokeAll(user.id, 'logout_all');
    await this.audit.recordApart({
      type: 'auth.logout',
      actor: auditActor(user),
      subject: { type: 'user', id: user.id },
      data: { allSessions: true },
    });
  }

  /** Valid only when signature, claims and session are all still good. */
  async verify(token: string): Promise<VerifyResultDto> {
    const refresh = await this.sessions.findLiveRefresh(token);
    if (refresh) {
      return {
        valid: true,
        type: 'refresh',
        sub: refresh.userId,
        exp: Math.floor(refresh.expiresAt.getTime() / 1000),
      };
    }
    const claims = this.tokens.verifyAccess(token);
    if (!(await this.sessions.authenticate(claims.sid, claims.sub))) {
      throw new ApiError('TOKEN_INVALID', 'The session of this token has ended');
    }
    return { valid: true, type: 'access', sub: claims.sub, exp: claims.exp };
  }

  me(user: AuthUser): MeDto {
    return toMeDto(user);
  }

  /** Changing one's password ends every other session of the user. */
  async changePassword(user: AuthUser, dto: ChangePasswordDto, ip: string): Promise<void> {
    // Guesses of the current password are throttled like logins (a stolen token must not
    // buy unlimited guesses), under a name no username can take.
    const attempt = await this.throttle.begin(`#password:${user.id}`, ip, PASSWORD_THROTTLE);
    const row = await this.credentials.findById(user.id);
    const actor = auditActor(user);
    const subject = { type: 'user', id: user.id };
    if (!(await this.passwords.verify(row?.passwordHash, dto.currentPassword))) {
      await this.audit.recordApart({
        type: 'auth.password.changed',
        actor,
        subject,
        outcome: 'failed',
        reason: 'WRONG_PASSWORD',
      });
      throw new ApiError('WRONG_PASSWORD', 'The current password is wrong');
    }
    await this.throttle.succeeded(attempt);
    const passwordHash = await this.passwords.hash(dto.newPassword);
    // The new hash, the other sessions' end and the event: all or nothing.
    await this.db.transaction(async (em) => {
      await this.credentials.setPasswordHash(user.id, passwordHash, em);
      await this.sessions.revokeAll(user.id, 'password_changed', user.sessionId, em);
      await this.audit.record(em, { type: 'auth.password.changed', actor, subject });
    });
  }

  private pair(issued: IssuedRefresh): TokenPairDto {
    return {
      accessToken: this.tokens.signAccess(issued.userId, issued.sessionId),
      refreshToken: issued.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.config.jwt.accessTtl,
      refreshExpiresIn: issued.expiresIn,
    };
  }
}
