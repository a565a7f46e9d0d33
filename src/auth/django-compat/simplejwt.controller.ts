import { Body, Controller, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ReqOrigin, RequestOrigin } from '../../common/request-origin';
import { Public } from '../auth.decorators';
import { AuthService } from '../auth.service';
import { SimpleJwtFilter } from './simplejwt.filter';
import { LoginDto, SimpleJwtPairDto, SimpleJwtRefreshDto, VerifyDto } from '../dto/auth.dto';

const TOKEN_NOT_VALID = {
  status: 401,
  description: 'Token is invalid or expired',
  schema: { example: { detail: 'Token is invalid or expired', code: 'token_not_valid' } },
};

/**
 * Django compatibility: the token routes of the Django REST Framework
 * service this one replaces (djangorestframework-simplejwt's
 * /api/token/, /api/token/refresh/, /api/token/verify/), with their
 * request and response shapes and error bodies, so its existing clients
 * keep working. They run over the same sessions, rotation and reuse
 * detection as /api/v1/auth; new clients use /api/v1/auth.
 */
@ApiTags('simplejwt compatibility')
@Public()
@UseFilters(SimpleJwtFilter)
@Controller('api/token')
export class SimpleJwtController {
  constructor(private readonly auth: AuthService) {}

  @ApiOperation({ summary: 'Obtain a pair (simplejwt TokenObtainPairView)' })
  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: SimpleJwtPairDto, description: 'The access and refresh tokens' })
  @ApiResponse({
    status: 401,
    description: 'Wrong credentials',
    schema: { example: { detail: 'No active account found with the given credentials' } },
  })
  async obtain(
    @Body() dto: LoginDto,
    @ReqOrigin() origin: RequestOrigin,
  ): Promise<SimpleJwtPairDto> {
    const pair = await this.auth.login(dto, origin);
    return { access: pair.accessToken, refresh: pair.refreshToken };
  }

  @ApiOperation({ summary: 'Rotate a refresh token (simplejwt TokenRefreshView)' })
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: SimpleJwtPairDto, description: 'The next access and refresh tokens' })
  @ApiResponse(TOKEN_NOT_VALID)
  async refresh(@Body() dto: SimpleJwtRefreshDto): Promise<SimpleJwtPairDto> {
    const pair = await this.auth.refresh(dto.refresh);
    return { access: pair.accessToken, refresh: pair.refreshToken };
  }

  @ApiOperation({ summary: 'Verify a token (simplejwt TokenVerifyView)' })
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({
    description: 'The token is valid: an empty object, as simplejwt answers',
    schema: { type: 'object', example: {} },
  })
  @ApiResponse(TOKEN_NOT_VALID)
  async verify(@Body() dto: VerifyDto): Promise<Record<string, never>> {
    await this.auth.verify(dto.token);
    return {};
  }
}
