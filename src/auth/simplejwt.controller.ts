import { Body, Controller, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ReqClient, RequestClient } from '../common/request-client';
import { Public } from './auth.decorators';
import { AuthService } from './auth.service';
import { SimpleJwtFilter } from './simplejwt.filter';
import { LoginDto, SimpleJwtPairDto, SimpleJwtRefreshDto, VerifyDto } from './dto/auth.dto';

const TOKEN_NOT_VALID = {
  status: 401,
  description: 'Token is invalid or expired',
  schema: { example: { detail: 'Token is invalid or expired', code: 'token_not_valid' } },
};

/**
 * The djangorestframework-simplejwt routes, with its request and response
 * shapes, over the same sessions, rotation and reuse detection.
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
  @ApiOkResponse({ type: SimpleJwtPairDto })
  @ApiResponse({
    status: 401,
    description: 'Wrong credentials',
    schema: { example: { detail: 'No active account found with the given credentials' } },
  })
  async obtain(
    @Body() dto: LoginDto,
    @ReqClient() client: RequestClient,
  ): Promise<SimpleJwtPairDto> {
    const pair = await this.auth.login(dto, client);
    return { access: pair.accessToken, refresh: pair.refreshToken };
  }

  @ApiOperation({ summary: 'Rotate a refresh token (simplejwt TokenRefreshView)' })
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: SimpleJwtPairDto })
  @ApiResponse(TOKEN_NOT_VALID)
  async refresh(@Body() dto: SimpleJwtRefreshDto): Promise<SimpleJwtPairDto> {
    const pair = await this.auth.refresh(dto.refresh);
    return { access: pair.accessToken, refresh: pair.refreshToken };
  }

  @ApiOperation({ summary: 'Verify a token (simplejwt TokenVerifyView)' })
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({ schema: { type: 'object', example: {} } })
  @ApiResponse(TOKEN_NOT_VALID)
  async verify(@Body() dto: VerifyDto): Promise<Record<string, never>> {
    await this.auth.verify(dto.token);
    return {};
  }
}
