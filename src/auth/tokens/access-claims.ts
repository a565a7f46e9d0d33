import { ApiError } from '../../common/problem';

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

/**
 * How far another instance's clock may be from this one's when it signs:
 * the slack on a token's age by its iat, and on an iat ahead of now.
 */
export const IAT_LEEWAY_SECONDS = 60;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
    UUID.test(c.sid) &&
    UUID.test(c.sub)
  );
}

/**
 * The claims of a token whose signature, algorithm, issuer, audience,
 * expiry and age a verifier has checked: an access token (not a refresh
 * token nor anything else signed with the key), with an exp (the JWT
 * libraries accept a token without one) and an iat not ahead of now (an
 * iat in the future would stretch the age limit without end).
 */
export function accessClaims(payload: unknown, now = Date.now()): AccessClaims {
  if (!isAccessClaims(payload)) {
    throw new ApiError('TOKEN_INVALID', 'The token is not an access token');
  }
  if (payload.iat * 1000 > now + IAT_LEEWAY_SECONDS * 1000) {
    throw new ApiError('TOKEN_INVALID', 'The access token is not valid yet');
  }
  return payload;
}
