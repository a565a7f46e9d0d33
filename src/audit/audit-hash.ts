import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';

/** The prevHash of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An event's link in the chain: lowercase hex SHA-256 of prevHash, a line
 * feed, and the event as the API shows it (hash left out, seq and prevHash
 * in), serialised by RFC 8785 (JSON Canonicalization Scheme). Anyone with the
 * events can recompute it.
 */
export function chainHash(prevHash: string, shown: Record<string, unknown>): string {
  const linked: Record<string, unknown> = { ...shown };
  delete linked.hash;
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalize(linked)}`)
    .digest('hex');
}
