import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { AccessClaims, IAT_LEEWAY_SECONDS } from '../tokens/access-claims';
import { VerifiedTokens } from '../tokens/verified-tokens';

/**
 * The access tokens this instance has verified, by their whole text, at most
 * ACCESS_TOKEN_CACHE_SIZE: the guard answers from here before it enters
 * passport, so passport-jwt and jsonwebtoken run only the first time an
 * instance sees a token. A token is remembered until its exp, or until it is
 * ACCESS_TOKEN_TTL (plus the leeway) old, whichever comes first. Whose
 * session it is gets checked on every request all the same.
 */
@Injectable()
export class AccessTokenCache extends VerifiedTokens<AccessClaims> {
  constructor(config: AppConfig) {
    super(config.jwt.accessTtl + IAT_LEEWAY_SECONDS, config.jwt.cacheSize);
  }
}
