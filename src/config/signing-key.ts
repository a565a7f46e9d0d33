import { createPrivateKey, KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

/** The key type each asymmetric algorithm signs with (ES256: the P-256 curve). */
export const KEY_TYPES: Record<Exclude<JwtAlgorithm, 'HS256'>, string> = {
  RS256: 'rsa',
  ES256: 'ec',
  EdDSA: 'ed25519',
};

/** Whether `key` is of the type (and, for ES256, the curve) `algorithm` signs with. */
export function fits(key: KeyObject, algorithm: Exclude<JwtAlgorithm, 'HS256'>): boolean {
  if (key.asymmetricKeyType !== KEY_TYPES[algorithm]) return false;
  return algorithm !== 'ES256' || key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * The private key of an asymmetric JWT_ALGORITHM, refused unless it is of the
 * algorithm's type. Checked with the rest of the configuration, before
 * anything starts (the embedded database among them), so a wrong key stops
 * the start with nothing left running.
 */
export function checkedSigningKey(
  algorithm: Exclude<JwtAlgorithm, 'HS256'>,
  pem: string,
): KeyObject {
  const key = createPrivateKey(pem);
  if (!fits(key, algorithm)) {
    const wanted = algorithm === 'ES256' ? 'ec (P-256)' : KEY_TYPES[algorithm];
    throw new Error(
      `JWT_ALGORITHM ${algorithm} needs a private key of type ${wanted}, not ${key.asymmetricKeyType}`,
    );
  }
  return key;
}
