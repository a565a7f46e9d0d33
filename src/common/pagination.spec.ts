import { generateKeyPairSync } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/env';
import { ApiError } from './problem';
import { Cursors, decodeCursor, encodeCursor, SEQ_KEY } from './pagination';

const cursors = (env: Record<string, string> = {}) =>
  new Cursors(
    new AppConfig(
      validateEnv({
        DATA_DIR: 'memory://',
        JWT_SECRET: 'unit-test-secret-that-is-long-enough-123',
        ...env,
      }),
    ),
  );

/** What `read` threw, if anything. */
function refusal(read: () => unknown): ApiError | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    return error as ApiError;
  }
}

const expectRefused = (read: () => unknown) =>
  expect(refusal(read)).toMatchObject({
    code: 'VALIDATION_FAILED',
    extra: { errors: [expect.objectContaining({ field: 'cursor' })] },
  });

describe('cursors', () => {
  const scope = cursors().scope('account-operations', 'account-a', 'debit', undefined);
  const cursor = encodeCursor(scope, '42');

  it('give back their key in the list and scope they were made for', () => {
    expect(decodeCursor(scope, cursor, SEQ_KEY)).toBe('42');
  });

  it('are read by another instance with the same configuration', () => {
    const same = cursors().scope('account-operations', 'account-a', 'debit', undefined);
    expect(decodeCursor(same, cursor, SEQ_KEY)).toBe('42');
  });

  it('with any byte flipped are refused', () => {
    const raw = Buffer.from(cursor, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const flipped = Buffer.from(raw);
      flipped[i] ^= 0x01;
      expectRefused(() => decodeCursor(scope, flipped.toString('base64url'), SEQ_KEY));
    }
  });

  it('re-encoded with another key (seq) and no HMAC of the server are refused', () => {
    const raw = Buffer.from(cursor, 'base64url');
    const payload = raw.subarray(0, raw.length - 16).toString();
    const forged = Buffer.from(payload.replace('"42"', '"43"'));
    expectRefused(() =>
      decodeCursor(
        scope,
        Buffer.concat([forged, raw.subarray(raw.length - 16)]).toString('base64url'),
        SEQ_KEY,
      ),
    );
    // The old, unsigned form.
    expectRefused(() =>
      decodeCursor(
        scope,
        Buffer.from(JSON.stringify(['account-operations', scope.digest, '43'])).toString(
          'base64url',
        ),
        SEQ_KEY,
      ),
    );
  });

  it('with characters added or cut are refused', () => {
    for (const text of [`${cursor}!`, ` ${cursor}`, cursor.slice(0, -1), cursor.slice(1), '']) {
      expectRefused(() => decodeCursor(scope, text, SEQ_KEY));
    }
  });

  it('of another list or another scope (account, filters) are refused', () => {
    const c = cursors();
    for (const other of [
      c.scope('operations', 'account-a', 'debit', undefined),
      c.scope('account-operations', 'account-b', 'debit', undefined),
      c.scope('account-operations', 'account-a', 'credit', undefined),
      c.scope('account-operations', 'account-a', 'debit', '2025-01-01'),
    ]) {
      expectRefused(() => decodeCursor(other, cursor, SEQ_KEY));
    }
  });

  it('made under another secret are refused', () => {
    const other = cursors({ JWT_SECRET: 'another-secret-that-is-also-long-enough-1' });
    expectRefused(() =>
      decodeCursor(
        other.scope('account-operations', 'account-a', 'debit', undefined),
        cursor,
        SEQ_KEY,
      ),
    );
  });

  it('are signed with a key derived from the private key when tokens are signed with one', () => {
    const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
      key.export({ format: 'pem', type: 'pkcs8' }).toString();
    const one = pem(generateKeyPairSync('ed25519').privateKey);
    const two = pem(generateKeyPairSync('ed25519').privateKey);
    const signed = (key: string) =>
      cursors({ JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: key }).scope('users', null);
    const made = encodeCursor(signed(one), '7');
    expect(decodeCursor(signed(one), made, SEQ_KEY)).toBe('7');
    expectRefused(() => decodeCursor(signed(two), made, SEQ_KEY));
    // Not the key of an HS256 service with the same JWT_SECRET.
    expectRefused(() => decodeCursor(cursors().scope('users', null), made, SEQ_KEY));
  });

  it('whose key has not the form of the list are refused', () => {
    expectRefused(() => decodeCursor(scope, encodeCursor(scope, 'not-a-seq'), SEQ_KEY));
  });
});
