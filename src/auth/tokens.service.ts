import { Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { ApiError } from '../common/problem';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { JwtKeys } from './jwt-keys';

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
 * Access tokens are JWTs; refresh tokens are opaque: the session id, a
 * generation counter and an HMAC of both under a server key (256 bits nobody
 * can predict without it). Deriving them lets the server hand out the same
 * successor again inside the reuse grace window without storing it; the
 * database keeps only the SHA-256 of the live one.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly jwt: JwtService,
    private readonly keys: JwtKeys,
    private readonly config: AppConfig,
  ) {}

  signAccess(userId: string, sessionId: string): string {
    return this.jwt.sign(
      { sid: sessionId, typ: 'access' },
      {
        subject: userId,
        jwtid: randomUUID(),
        expiresIn: this.config.jwt.accessTtl,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        algorithm: this.keys.algorithm,
        privateKey: this.keys.signingKey,
        ...(this.keys.kid ? { keyid: this.keys.kid } : {}),
        header: { alg: this.keys.algorithm, typ: 'JWT' },
      },
    );
  }

  /** The claims of an access token whose signature, algorithm, issuer, audience and expiry are good. */
  verifyAccess(token: string): AccessClaims {
    let claims: AccessClaims;
    try {
      const header = decodeHeader(token);
      const key = this.keys.verificationKey(header?.kid);
      if (!key) throw new Error('unknown key id');
      claims = this.jwt.verify<AccessClaims>(token, {
        algorithms: [this.keys.algorithm],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        publicKey: key as unknown as Buffer, // a KeyObject: jsonwebtoken takes it as is
      });
    } catch (error) {
      if (error instanceof TokenExpiredError) {
        throw new ApiError('TOKEN_EXPIRED', 'The access token has expired');
      }
      throw new ApiError('TOKEN_INVALID', 'The token is not valid');
    }
    if (!isAccessClaims(claims))
      throw new ApiError('TOKEN_INVALID', 'The token is not an access token');
    return claims;
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
    /^[0-9a-f-]{36}$/i.test(c.sid) &&
    /^[0-9a-f-]{36}$/i.test(c.sub)
  );
}

export function decodeHeader(token: string): { kid?: string } | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    return typeof header === 'object' && header !== null ? header : null;
  } catch {
    return null;
  }
}
