import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy as CustomStrategy } from 'passport-custom';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ApiError } from '../../common/problem';
import { AccessClaims, accessClaims } from '../tokens/access-claims';
import { JwtKeys } from '../tokens/jwt-keys';
import { headerKid, TokensService } from '../tokens/tokens.service';

/** The name AuthGuard('jwt') finds the strategy by; the EdDSA one takes it when EdDSA signs. */
export const JWT_STRATEGY = 'jwt';

/**
 * The JWT strategy: passport-jwt over jsonwebtoken. The bearer token of the
 * Authorization header only; its key chosen by kid among the published ones
 * (made once, by JwtKeys), the algorithm pinned, issuer, audience, expiry
 * and age by iat checked by jsonwebtoken with TokensService's settings (the
 * verify routes use the same); then `validate` keeps access tokens only.
 * The guard (auth.guard.ts) enters passport only for a token this instance
 * has not verified yet.
 *
 * passport keeps its strategies per process: one application per process
 * (tests start one at a time when their keys differ).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(keys: JwtKeys, tokens: TokensService) {
    const { algorithms, issuer, audience, maxAge } = tokens.verification;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _request: unknown,
        rawJwtToken: string,
        done: (error: Error | null, key?: string) => void,
      ) => {
        const key = keys.verificationKey(headerKid(rawJwtToken) ?? undefined);
        if (key) done(null, key);
        else done(new ApiError('TOKEN_INVALID', 'The access token is not valid'));
      },
      // EdDSA is the other strategy's: here the key is RSA, P-256 or the HS256 secret.
      algorithms: algorithms as Array<'HS256' | 'RS256' | 'ES256'>,
      issuer,
      audience,
      jsonWebTokenOptions: { maxAge },
    });
  }

  /** The payload jsonwebtoken verified: an access token's claims, or TOKEN_INVALID. */
  validate(payload: unknown): AccessClaims {
    return accessClaims(payload);
  }
}

/**
 * The JWT strategy when EdDSA signs (JWT_ALGORITHM=EdDSA), which
 * jsonwebtoken cannot verify: passport-custom over fast-jwt, under the same
 * name and behind the same guard. The bearer token is verified by
 * TokensService, with the same rules.
 */
@Injectable()
export class EdDsaJwtStrategy extends PassportStrategy(CustomStrategy, JWT_STRATEGY) {
  private readonly extract = ExtractJwt.fromAuthHeaderAsBearerToken();

  constructor(private readonly tokens: TokensService) {
    super();
  }

  validate(request: FastifyRequest): AccessClaims {
    const token = this.extract(request);
    if (!token) throw new ApiError('UNAUTHENTICATED', 'A bearer access token is required');
    return this.tokens.verifyNow(token);
  }
}

/** The one strategy this application registers as 'jwt', for its JWT_ALGORITHM. */
export const jwtStrategyProvider = {
  provide: JWT_STRATEGY,
  inject: [JwtKeys, TokensService],
  useFactory: (keys: JwtKeys, tokens: TokensService): JwtStrategy | EdDsaJwtStrategy =>
    keys.algorithm === 'EdDSA' ? new EdDsaJwtStrategy(tokens) : new JwtStrategy(keys, tokens),
};
