import { Injectable } from '@nestjs/common';
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
  ) {}

  /**
   * Unknown user, disabled user and wrong password all answer the same, after
   * the same argon2 work. Throttled attempts are refused before any hashing.
   */
  async login(dto: LoginDto, origin: RequestOrigin): Promise<TokenPairDto> {
    const attempt = await this.throttle.begin(dto.username, origin.ip);
    const user = await this.credentials.findByUsername(dto.username);
    const passwordOk = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !passwordOk || user.disabled) throw invalidCredentials();
    await this.throttle.succeeded(attempt);
    await this.credentials.touchLastLogin(user.id);
    return this.pair(await this.sessions.create(user.id, origin.userAgent, origin.ip));
  }

  async refresh(refreshToken: string): Promise<TokenPairDto> {
    return this.pair(await this.sessions.rotate(refreshToken));
  }

  async logout(user: AuthUser): Promise<void> {
    await this.sessions.revoke(user.sessionId, 'logout');
  }

  async logoutAll(user: AuthUser): Promise<void> {
    await this.sessions.revokeAll(user.id, 'logout_all');
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
    if (!(await this.passwords.verify(row?.passwordHash, dto.currentPassword))) {
      throw new ApiError('WRONG_PASSWORD', 'The current password is wrong');
    }
    await this.throttle.succeeded(attempt);
    await this.credentials.setPasswordHash(user.id, await this.passwords.hash(dto.newPassword));
    await this.sessions.revokeAll(user.id, 'password_changed', user.sessionId);
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
