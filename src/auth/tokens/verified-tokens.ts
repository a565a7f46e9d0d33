/**
 * Verified tokens and their claims, kept until the claims' `exp` or until
 * they are `maxAgeSeconds` old by their `iat`, whichever comes first (the
 * verifier's rules), at most `size` of them (the oldest dropped first). The
 * key is the whole token, so only an exact copy of a verified token is found
 * here: this spares the SHA-256 a cache of token digests takes on every
 * request, which costs about what an HS256 check does. It counts its hits
 * and misses, for the metrics.
 */
export class VerifiedTokens<C extends { exp: number; iat: number }> {
  private readonly claims = new Map<string, Readonly<C>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxAgeSeconds: number,
    private readonly size = 1000,
  ) {}

  /** The claims of `token` if it was verified and has neither expired nor grown too old since. */
  get(token: string): Readonly<C> | undefined {
    const claims = this.claims.get(token);
    if (claims !== undefined) {
      if (Math.min(claims.exp, claims.iat + this.maxAgeSeconds) * 1000 > Date.now()) {
        this.hits++;
        return claims;
      }
      this.claims.delete(token);
    }
    this.misses++;
    return undefined;
  }

  /** Remembers the claims of a token that was just verified (frozen: every request shares them). */
  add(token: string, claims: C): Readonly<C> {
    if (this.size === 0) return claims;
    if (this.claims.size >= this.size)
      this.claims.delete(this.claims.keys().next().value as string);
    this.claims.set(token, Object.freeze(claims));
    return claims;
  }
}
