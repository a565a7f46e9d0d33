import { Injectable } from '@nestjs/common';
import { JwtService, JwtVerifyOptions } from '@nestjs/jwt';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../../common/problem';
import { AppConfig } from '../../config/app-config';
import { AccessClaims, accessClaims, IAT_LEEWAY_SECONDS } from './access-claims';
import { AccessTokenCache } from '../guard/access-token-cache';
import { JwtKeys } from './jwt-keys';

export type { AccessClaims } from './access-claims';
export { IAT_LEEWAY_SECONDS } from './access-claims';

export interface RefreshTokenParts {
  sessionId: string;
  generation: number;
}

const REFRESH_BYTES = 16 + 4 + 32;

/**
 * What verifies an access token, besides its key: the pinned algorithm, the
 * issuer, the audience, and its age by iat (ACCESS_TOKEN_TTL plus the
 * leeway: older is expired, whatever its exp says). The passport strategy
 * and the verify routes pass the same to jsonwebtoken.
 */
export interface AccessVerification {
  algorithms: ['HS256' | 'RS256' | 'ES256' | 'EdDSA'];
  issuer: string;
  audience: string;
  maxAge: string;
}

/**
 * Access tokens are JWTs, signed by @nestjs/jwt's JwtService (jsonwebtoken)
 * with HS256, RS256 or ES256, and by fast-jwt with EdDSA, which
 * jsonwebtoken does not know. Refresh tokens are opaque: the session id, a
 * generation counter and an HMAC of both under a server key (256 bits
 * nobody can predict without it). Deriving them lets the server hand out
 * the same successor again inside the reuse grace window without storing
 * it; the database keeps only the SHA-256 of the live one.
 *
 * The guard verifies requests' tokens through passport (jwt.strategy.ts);
 * `verifyAccess` here is for the routes that take a token in their body
 * (verify) and for the EdDSA strategy. Which session a token belongs to is
 * checked elsewhere, on every request.
 */
@Injectable()
export class TokensService {
  readonly verification: AccessVerification;
  private readonly signEdDsa?: (payload: object) => string;
  private readonly verifyEdDsa?: (token: string) => unknown;

  constructor(
    private readonly keys: JwtKeys,
    private readonly jwt: JwtService,
    private readonly cache: AccessTokenCache,
    private readonly config: AppConfig,
  ) {
    const maxAgeSeconds = config.jwt.accessTtl + IAT_LEEWAY_SECONDS;
    this.verification = {
      algorithms: [keys.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      maxAge: `${maxAgeSeconds}s`,
    };
    if (keys.algorithm !== 'EdDSA') return;
    this.signEdDsa = createSigner({
      key: keys.signingKey,
      algorithm: 'EdDSA',
      kid: keys.kid,
      iss: config.jwt.issuer,
      aud: config.jwt.audience,
      expiresIn: config.jwt.accessTtl * 1000,
    });
    // One verifier per published key, chosen by the token's kid; made once.
    const verifiers = new Map(
      keys.verificationKeys().map(({ kid, pem }) => [
        kid,
        createVerifier({
          key: pem,
          algorithms: ['EdDSA'],
          allowedIss: config.jwt.issuer,
          allowedAud: config.jwt.audience,
          requiredClaims: ['exp', 'iat', 'iss', 'aud'],
          maxAge: maxAgeSeconds * 1000,
          cache: false,
        }),
      ]),
    );
    this.verifyEdDsa = (token) => {
      const verifier = verifiers.get(headerKid(token) ?? '');
      if (!verifier) throw new ApiError('TOKEN_INVALID', 'The access token is not valid');
      return verifier(token) as unknown;
    };
  }

  signAccess(userId: string, sessionId: string): string {
    const payload = { sub: userId, sid: sessionId, jti: randomUUID(), typ: 'access' };
    return this.signEdDsa ? this.signEdDsa(payload) : this.jwt.sign(payload);
  }

  /**
   * The claims of an access token whose signature, algorithm, issuer,
   * audience, expiry and age are good: from the cache of verified tokens, or
   * verified now (and remembered).
   */
  verifyAccess(token: string): Readonly<AccessClaims> {
    const known = this.cache.get(token);
    if (known !== undefined) return known;
    return this.cache.add(token, this.verifyNow(token));
  }

  /** Verifies an access token, without the cache: TOKEN_INVALID or TOKEN_EXPIRED when it fails. */
  verifyNow(token: string): AccessClaims {
    let payload: unknown;
    try {
      if (this.verifyEdDsa) {
        payload = this.verifyEdDsa(token);
      } else {
        const key = this.keys.verificationKey(headerKid(token) ?? undefined);
        if (!key) throw new ApiError('TOKEN_INVALID', 'The access token is not valid');
        const options: JwtVerifyOptions = {
          ...this.verification,
          algorithms: [this.keys.algorithm as 'HS256' | 'RS256' | 'ES256'],
        };
        if (this.keys.algorithm === 'HS256') options.secret = key;
        else options.publicKey = key;
        payload = this.jwt.verify<object>(token, options);
      }
    } catch (error) {
      throw tokenError(error);
    }
    return accessClaims(payload);
  }

  refreshToken(sessionId: string, generation: number): string {
    const payload = Buffer.alloc(20);
    Buffer.from(sessionId.replace(/-/g, ''), 'hex').copy(payload, 0);
    payload.writeUInt32BE(generation, 16);
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url');
  }

  /** The parts of a refresh token this server issued, or null for anything else. */
  parseRefresh(token: string): RefreshTokenParts | null {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{70}$/.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length !== REFRESH_BYTES) return null;
    const payload = raw.subarray(0, 20);
    if (!timingSafeEqual(raw.subarray(20), this.mac(payload))) return null;
    const hex = payload.subarray(0, 16).toString('hex');
    const sessionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return { sessionId, generation: payload.readUInt32BE(16) };
  }

  hashRefresh(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.config.refreshTokenKey).update(payload).digest();
  }
}

/**
 * What a failed verification answers: TOKEN_EXPIRED for an exp that has
 * passed or an age past the limit (fast-jwt's and jsonwebtoken's errors
 * alike), TOKEN_INVALID for anything else.
 */
export function tokenError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const expired =
    (error instanceof TokenError && error.code === TokenError.codes.expired) ||
    (error as { name?: string } | null)?.name === 'TokenExpiredError';
  return expired
    ? new ApiError('TOKEN_EXPIRED', 'The access token has expired')
    : new ApiError('TOKEN_INVALID', 'The access token is not valid');
}

/** The kid of a JWT's header, if it has one. */
export function headerKid(token: string): string | null {
  try {
    const header = JSON.parse(
      Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString(),
    ) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : null;
  } catch {
    return null;
  }
}
