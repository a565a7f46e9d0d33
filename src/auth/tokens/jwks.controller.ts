import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth.decorators';
import { JwtKeys, PublicJwk } from './jwt-keys';

@ApiTags('auth')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: JwtKeys) {}

  /** Public keys that verify access tokens (empty with HS256, whose secret is never published). */
  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOkResponse({
    description: 'The JSON Web Key Set: the public keys, each with its kid',
    schema: {
      example: { keys: [{ kty: 'RSA', kid: '…', alg: 'RS256', use: 'sig', n: '…', e: 'AQAB' }] },
    },
  })
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.keys.publishedKeys() };
  }
}
