import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-problems';
import { ReqOrigin, RequestOrigin } from '../common/request-origin';
import { Auth, AuthUser, CurrentUser, Public } from './auth.decorators';
import { ParseIdPipe } from '../common/validation';
import { SerializedAs } from '../common/serialization';
import { AuthService } from './auth.service';
import {
  ChangePasswordDto,
  LoginDto,
  ME_SCHEMA,
  MeDto,
  RefreshDto,
  SessionDto,
  TokenPairDto,
  VerifyDto,
  VerifyResultDto,
} from './dto/auth.dto';
import { SessionsService } from './sessions/sessions.service';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  /** Logs in and starts a session. Five failures for one username from one address within 15 minutes lock that pair out (429). */
  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'Logged in: the access and refresh tokens' })
  @ApiProblems(
    [400, 'Invalid body'],
    [401, 'INVALID_CREDENTIALS'],
    [429, 'TOO_MANY_REQUESTS, with Retry-After (seconds)'],
  )
  login(@Body() dto: LoginDto, @ReqOrigin() origin: RequestOrigin): Promise<TokenPairDto> {
    return this.auth.login(dto, origin);
  }

  /** Consumes the refresh token and returns a new pair in the same session. */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'The next access and refresh tokens' })
  @ApiProblems(
    [400, 'Invalid body'],
    [401, 'TOKEN_INVALID, or REFRESH_TOKEN_REUSED (the session is revoked)'],
  )
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  /** Ends this session: its access and refresh tokens stop working at once. */
  @Auth()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Logged out: this session has ended' })
  logout(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logout(user);
  }

  /** Ends every session of the caller. */
  @Auth()
  @Post('logout-all')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every session of yours has ended' })
  logoutAll(@CurrentUser() user: AuthUser): Promise<void> {
    return this.auth.logoutAll(user);
  }

  /** Says whether an access or refresh token is still good (signature, claims and session). */
  @Public()
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({
    type: VerifyResultDto,
    description: 'The token is valid: its type, subject and expiry',
  })
  @ApiProblems([400, 'Invalid body'], [401, 'TOKEN_INVALID or TOKEN_EXPIRED'])
  verify(@Body() dto: VerifyDto): Promise<VerifyResultDto> {
    return this.auth.verify(dto.token);
  }

  /** The caller: its id, username, role and linked client. */
  @Auth()
  @Get('me')
  @SerializedAs(ME_SCHEMA)
  @ApiOkResponse({ type: MeDto, description: 'The caller' })
  me(@CurrentUser() user: AuthUser): MeDto {
    return this.auth.me(user);
  }

  /** The caller's live sessions. */
  @Auth()
  @Get('sessions')
  @ApiOkResponse({
    type: [SessionDto],
    description: "The caller's live sessions, this one marked current",
  })
  listSessions(@CurrentUser() user: AuthUser): Promise<SessionDto[]> {
    return this.sessions.list(user);
  }

  /** Ends one of the caller's sessions. */
  @Auth()
  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiProblems([400, 'Malformed id'], [404, 'No such live session of yours'])
  deleteSession(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseIdPipe) id: string,
  ): Promise<void> {
    return this.sessions.revokeOwn(user, id);
  }

  /** Changes the caller's password and ends every other session. */
  @Auth()
  @Post('password')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Password changed; your other sessions have ended' })
  @ApiProblems(
    [400, 'Invalid body (new password 12 to 128 characters)'],
    [403, 'WRONG_PASSWORD'],
    [429, 'TOO_MANY_REQUESTS after 5 wrong current passwords in 15 minutes, with Retry-After'],
  )
  changePassword(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChangePasswordDto,
    @ReqOrigin() origin: RequestOrigin,
  ): Promise<void> {
    return this.auth.changePassword(user, dto, origin.ip);
  }
}
