import { Injectable } from '@nestjs/common';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { JwtKeys } from './jwt-keys';
import { VerifiedTokens } from './verified-tokens';

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  typ: 'access';
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

export interface RefreshTokenParts {
  sessionId: string;
  generation: number;
}

const REFRESH_BYTES = 16 + 4 + 32;

/**
 * How far another instance's clock may be from this one's when it signs:
 * the slack on a token's age by its iat, and on an iat ahead of now.
 */
export const IAT_LEEWAY_SECONDS = 60;

/**
 * Access tokens are JWTs; refresh tokens are opaque: the session id, a
 * generation counter and an HMAC of both under a server key (256 bits nobody
 * can predict without it). Deriving them lets the server hand out the same
 * successor again inside the reuse grace window without storing it; the
 * database keeps only the SHA-256 of the live one.
 *
 * The signer and the verifier (fast-jwt) are made once, with their keys: the
 * algorithm is pinned, and the issuer, audience and expiry are checked on
 * every token, and so is its age by iat: a token older than
 * ACCESS_TOKEN_TTL (plus the leeway) is expired whatever its exp says, and
 * one issued in the future is not valid. Which session a token belongs to
 * is checked elsewhere, on every request: the cache of verified tokens only
 * spares the signature.
 */
@Injectable()
export class TokensService {
  private readonly sign: (payload: object) => string;
  private readonly verify: (token: string) => unknown;
  private readonly verified: VerifiedTokens<AccessClaims>;

  constructor(
    private readonly keys: JwtKeys,
    private readonly config: AppConfig,
  ) {
    const maxAgeSeconds = config.jwt.accessTtl + IAT_LEEWAY_SECONDS;
    this.verified = new VerifiedTokens(maxAgeSeconds);
    this.sign = createSigner({
      key: keys.signingKey,
      algorithm: keys.algorithm,
      ...(keys.kid ? { kid: keys.kid } : {}),
      iss: config.jwt.issuer,
      aud: config.jwt.audience,
      expiresIn: config.jwt.accessTtl * 1000,
    });
    const verifierFor = (key: string) =>
      createVerifier({
        key,
        algorithms: [keys.algorithm],
        allowedIss: config.jwt.issuer,
        allowedAud: config.jwt.audience,
        requiredClaims: ['exp', 'iat', 'iss', 'aud'],
        // An expired token's error, as for exp: the client's answer is the same, a refresh.
        maxAge: maxAgeSeconds * 1000,
      });
    if (keys.algorithm === 'HS256') {
      this.verify = verifierFor(keys.signingKey);
    } else {
      // One verifier per published key, chosen by the token's kid.
      const verifiers = new Map(
        keys.verificationKeys().map(({ kid, pem }) => [kid, verifierFor(pem)]),
      );
      this.verify = (token) => {
        const verifier = verifiers.get(headerKid(token) ?? '');
        if (!verifier) throw new Error('unknown key id');
        return verifier(token) as unknown;
      };
    }
  }

  signAccess(userId: string, sessionId: string): string {
    return this.sign({ sub: userId, sid: sessionId, jti: randomUUID(), typ: 'access' });
  }

  /** The claims of an access token whose signature, algorithm, issuer, audience, expiry and age are good. */
  verifyAccess(token: string): Readonly<AccessClaims> {
    // An expired or too old one is not found: the verifier says TOKEN_EXPIRED below.
    const known = this.verified.get(token);
    if (known !== undefined) return known;
    let claims: unknown;
    try {
      claims = this.verify(token);
    } catch (error) {
      if (error instanceof TokenError && error.code === TokenError.codes.expired) {
        throw new ApiError('TOKEN_EXPIRED', 'The access token has expired');
      }
      throw new ApiError('TOKEN_INVALID', 'The access token is not valid');
    }
    if (!isAccessClaims(claims)) {
      throw new ApiError('TOKEN_INVALID', 'The token is not an access token');
    }
    // fast-jwt bounds only the age; an iat ahead of now would stretch it without limit.
    if (claims.iat * 1000 > Date.now() + IAT_LEEWAY_SECONDS * 1000) {
      throw new ApiError('TOKEN_INVALID', 'The access token is not valid yet');
    }
    return this.verified.add(token, claims);
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

export function isAccessClaims(claims: unknown): claims is AccessClaims {
  const c = claims as Partial<AccessClaims> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    c.typ === 'access' &&
    typeof c.sub === 'string' &&
    typeof c.sid === 'string' &&
    typeof c.jti === 'string' &&
    typeof c.exp === 'number' &&
    typeof c.iat === 'number' &&
    /^[0-9a-f-]{36}$/i.test(c.sid) &&
    /^[0-9a-f-]{36}$/i.test(c.sub)
  );
}

/** The kid of a JWT's header, if it has one. */
function headerKid(token: string): string | null {
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
