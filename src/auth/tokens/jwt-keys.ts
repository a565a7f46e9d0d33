import { Injectable } from '@nestjs/common';
import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppConfig } from '../../config/app-config';
import { checkedSigningKey, fits, JwtAlgorithm } from '../../config/signing-key';

export type { JwtAlgorithm } from '../../config/signing-key';

/**
 * A public key as JWKS publishes it (RFC 7517): RSA (n, e), P-256 (EC, crv,
 * x, y) or Ed25519 (OKP, crv, x).
 */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

interface PublicKeyEntry {
  jwk: PublicJwk;
  /** SPKI PEM, as the verifier takes it. */
  pem: string;
}

/**
 * The key access tokens are signed with: HS256 with JWT_SECRET, or RS256 (an
 * RSA key), ES256 (a P-256 key) or EdDSA (an Ed25519 key) with a private key
 * whose public half is
 * published (by kid) at /.well-known/jwks.json. After a key rotation, the
 * previous public keys go in JWT_RETIRED_PUBLIC_KEYS_FILE: they stay
 * published and accepted until the tokens they signed have expired and the
 * operator removes them. Keys are read once, at start.
 */
@Injectable()
export class JwtKeys {
  readonly algorithm: JwtAlgorithm;
  /** The HS256 secret, or the private key as PKCS#8 PEM. */
  readonly signingKey: string;
  readonly kid?: string;
  private readonly published: PublicKeyEntry[] = [];

  constructor(config: AppConfig) {
    this.algorithm = config.jwt.algorithm;
    if (this.algorithm === 'HS256' || !config.jwt.privateKeyPem) {
      this.signingKey = config.jwt.secret;
      return;
    }
    const privateKey = checkedSigningKey(this.algorithm, config.jwt.privateKeyPem);
    this.signingKey = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const current = publicEntry(createPublicKey(privateKey), this.algorithm);
    this.kid = current.jwk.kid;
    this.published.push(current);
    if (config.jwt.retiredPublicKeysFile) {
      const text = readFileSync(config.jwt.retiredPublicKeysFile, 'utf8');
      for (const pem of text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ??
        []) {
        const key = createPublicKey(pem);
        if (!fits(key, this.algorithm)) continue;
        const entry = publicEntry(key, this.algorithm);
        if (!this.published.some((p) => p.jwk.kid === entry.jwk.kid)) this.published.push(entry);
      }
    }
  }

  /**
   * The key that verifies a token whose header names `kid`: the secret with
   * HS256 (whatever the kid), else the published key of that kid, or
   * undefined for a kid no published key has.
   */
  verificationKey(kid: string | undefined): string | undefined {
    if (this.algorithm === 'HS256') return this.signingKey;
    return this.published.find((p) => p.jwk.kid === kid)?.pem;
  }

  /** Each published key's kid and PEM: the keys a token may be verified with. */
  verificationKeys(): Array<{ kid: string; pem: string }> {
    return this.published.map((p) => ({ kid: p.jwk.kid, pem: p.pem }));
  }

  publishedKeys(): PublicJwk[] {
    return this.published.map((p) => p.jwk);
  }
}

function publicEntry(key: KeyObject, alg: JwtAlgorithm): PublicKeyEntry {
  const jwk = key.export({ format: 'jwk' }) as {
    kty: string;
    n?: string;
    e?: string;
    crv?: string;
    x?: string;
    y?: string;
  };
  // RFC 7638 thumbprint (the required members, in lexicographic order): the same kid for the
  // same key on every instance.
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  const kid = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  return {
    jwk: { ...members, kid, alg, use: 'sig' },
    pem: key.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
