import { createHash } from 'node:crypto';
import { chainHash, GENESIS_HASH } from './audit-hash';

describe('chainHash', () => {
  it('hashes prevHash, a line feed and the RFC 8785 form: sorted keys, no spaces, hash left out', () => {
    const event = {
      seq: 1,
      type: 'auth.logout',
      data: { b: 2, a: 'é' },
      prevHash: GENESIS_HASH,
      hash: 'x',
    };
    const canonical = `{"data":{"a":"é","b":2},"prevHash":"${GENESIS_HASH}","seq":1,"type":"auth.logout"}`;
    expect(chainHash(GENESIS_HASH, event)).toBe(
      createHash('sha256').update(`${GENESIS_HASH}\n${canonical}`).digest('hex'),
    );
  });

  it('changes with any field, and with the previous hash', () => {
    const event = {
      seq: 2,
      type: 'user.created',
      data: { role: 'teller' },
      prevHash: 'a'.repeat(64),
    };
    const base = chainHash('a'.repeat(64), event);
    expect(chainHash('b'.repeat(64), event)).not.toBe(base);
    expect(chainHash('a'.repeat(64), { ...event, data: { role: 'admin' } })).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
