import { Injectable } from '@nestjs/common';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppConfig } from '../config/app-config';

export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  n?: string;
  e?: string;
}

interface PublicKeyEntry {
  jwk: PublicJwk;
  key: KeyObject;
}

/**
 * The key access tokens are signed with: HS256 with JWT_SECRET, or RS256 with
 * a private key whose public half is published (by kid) at
 * /.well-known/jwks.json. After a key rotation, the previous public keys go in
 * JWT_RETIRED_PUBLIC_KEYS_FILE: they stay published and accepted until the
 * tokens they signed have expired and the operator removes them.
 */
@Injectable()
export class JwtKeys {
  readonly algorithm: 'HS256' | 'RS256';
  /** KeyObjects, made once: jsonwebtoken would otherwise parse the key text on every call. */
  readonly signingKey: KeyObject;
  readonly kid?: string;
  private readonly published: PublicKeyEntry[] = [];

  constructor(config: AppConfig) {
    this.algorithm = config.jwt.algorithm;
    if (this.algorithm === 'HS256' || !config.jwt.privateKeyPem) {
      this.signingKey = createSecretKey(Buffer.from(config.jwt.secret));
      return;
    }
    this.signingKey = createPrivateKey(config.jwt.privateKeyPem);
    const current = publicEntry(createPublicKey(config.jwt.privateKeyPem), this.algorithm);
    this.kid = current.jwk.kid;
    this.published.push(current);
    if (config.jwt.retiredPublicKeysFile) {
      const text = readFileSync(config.jwt.retiredPublicKeysFile, 'utf8');
      for (const pem of text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ??
        []) {
        const entry = publicEntry(createPublicKey(pem), this.algorithm);
        if (!this.published.some((p) => p.jwk.kid === entry.jwk.kid)) this.published.push(entry);
      }
    }
  }

  /** The key that verifies a token with this kid (HS256: the secret), or null. */
  verificationKey(kid: string | undefined): KeyObject | null {
    if (this.algorithm === 'HS256') return this.signingKey;
    const entry = kid ? this.published.find((p) => p.jwk.kid === kid) : this.published[0];
    return entry?.key ?? null;
  }

  publishedKeys(): PublicJwk[] {
    return this.published.map((p) => p.jwk);
  }
}

function publicEntry(key: KeyObject, alg: string): PublicKeyEntry {
  const jwk = key.export({ format: 'jwk' }) as { kty: string; n?: string; e?: string };
  // RFC 7638 thumbprint: the same kid for the same key on every instance.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return {
    jwk: { kty: jwk.kty, kid, alg, use: 'sig', n: jwk.n, e: jwk.e },
    key,
  };
}
