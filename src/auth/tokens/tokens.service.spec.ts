import { JwtService, JwtSignOptions } from '@nestjs/jwt';
import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { validateEnv } from '../../config/env';
import { AccessTokenCache } from '../guard/access-token-cache';
import { JwtKeys } from './jwt-keys';
import { jwtModuleOptions } from './jwt-keys.module';
import { IAT_LEEWAY_SECONDS, TokensService } from './tokens.service';

function service(env: Record<string, string> = {}) {
  const config = new AppConfig(
    validateEnv({
      DATA_DIR: 'memory://',
      JWT_SECRET: 'unit-test-secret-that-is-long-enough-123',
      ...env,
    }),
  );
  const keys = new JwtKeys(config);
  const jwt = new JwtService(jwtModuleOptions(keys, config));
  return { tokens: new TokensService(keys, jwt, new AccessTokenCache(config), config), config };
}

const decode = (jwt: string, part: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[part], 'base64url').toString()) as Record<string, unknown>;

describe('TokensService', () => {
  const { tokens } = service();
  const userId = randomUUID();
  const sessionId = randomUUID();

  describe('access tokens', () => {
    it('carry sub, sid, jti, typ, iat, exp, iss and aud, signed HS256', () => {
      const jwt = tokens.signAccess(userId, sessionId);
      expect(decode(jwt, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
      const claims = decode(jwt, 1);
      expect(claims).toMatchObject({
        sub: userId,
        sid: sessionId,
        typ: 'access',
        iss: 'bank-api',
        aud: 'bank-api',
      });
      expect(claims.exp).toBe((claims.iat as number) + 900);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
      expect(tokens.verifyAccess(jwt)).toMatchObject({ sub: userId, sid: sessionId });
    });

    it('get a new jti each time', () => {
      expect(decode(tokens.signAccess(userId, sessionId), 1).jti).not.toBe(
        decode(tokens.signAccess(userId, sessionId), 1).jti,
      );
    });

    it('are refused with another secret, issuer or audience', () => {
      const jwt = tokens.signAccess(userId, sessionId);
      const variants: Array<Record<string, string>> = [
        { JWT_SECRET: 'another-secret-that-is-also-long-enough-1' },
        { JWT_ISSUER: 'someone-else' },
        { JWT_AUDIENCE: 'another-api' },
      ];
      for (const env of variants) {
        expect(() => service(env).tokens.verifyAccess(jwt)).toThrow(
          expect.objectContaining({ code: 'TOKEN_INVALID' }),
        );
      }
    });

    it('are refused with alg none', () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = tokens.signAccess(userId, sessionId).split('.')[1];
      expect(() => tokens.verifyAccess(`${header}.${payload}.`)).toThrow(
        expect.objectContaining({ code: 'TOKEN_INVALID' }),
      );
    });

    /** An access token signed here with the service's key, with these claims. */
    const signed = (claims: Record<string, unknown>, options: JwtSignOptions = {}) =>
      new JwtService({}).sign(
        { sid: sessionId, typ: 'access', ...claims },
        {
          secret: 'unit-test-secret-that-is-long-enough-123',
          subject: userId,
          jwtid: randomUUID(),
          issuer: 'bank-api',
          audience: 'bank-api',
          ...options,
        },
      );
    const now = () => Math.floor(Date.now() / 1000);
    const TEN_YEARS = 10 * 365 * 24 * 3600;
    /** ACCESS_TOKEN_TTL (15 minutes) plus the leeway. */
    const MAX_AGE = 900 + IAT_LEEWAY_SECONDS;

    it('say TOKEN_EXPIRED once expired', () => {
      const expired = signed({ exp: now() - 10 });
      expect(() => tokens.verifyAccess(expired)).toThrow(
        expect.objectContaining({ code: 'TOKEN_EXPIRED' }),
      );
    });

    describe('whatever their exp says', () => {
      it('are accepted up to ACCESS_TOKEN_TTL plus at most 60 s of leeway old by their iat', () => {
        expect(IAT_LEEWAY_SECONDS).toBeLessThanOrEqual(60);
        const jwt = signed({ iat: now() - MAX_AGE + 5, exp: now() + TEN_YEARS });
        expect(tokens.verifyAccess(jwt)).toMatchObject({ sub: userId, sid: sessionId });
      });

      it('say TOKEN_EXPIRED when older by their iat', () => {
        const jwt = signed({ iat: now() - MAX_AGE - 5, exp: now() + TEN_YEARS });
        expect(() => tokens.verifyAccess(jwt)).toThrow(
          expect.objectContaining({ code: 'TOKEN_EXPIRED' }),
        );
      });

      it('are refused without an iat, or with one ahead of now by more than the leeway', () => {
        for (const jwt of [
          signed({ exp: now() + TEN_YEARS }, { noTimestamp: true }),
          signed({ iat: now() + TEN_YEARS, exp: now() + TEN_YEARS + 900 }),
          signed({ iat: now() + IAT_LEEWAY_SECONDS + 5, exp: now() + TEN_YEARS }),
        ]) {
          expect(() => tokens.verifyAccess(jwt)).toThrow(
            expect.objectContaining({ code: 'TOKEN_INVALID' }),
          );
        }
        expect(tokens.verifyAccess(signed({ iat: now() + 5, exp: now() + 900 }))).toMatchObject({
          sub: userId,
        });
      });
    });

    describe('once verified', () => {
      afterEach(() => jest.restoreAllMocks());

      it('are still refused with TOKEN_EXPIRED once too old by their iat, whatever their exp says', () => {
        const iat = now();
        const jwt = signed({ iat, exp: iat + TEN_YEARS });
        expect(tokens.verifyAccess(jwt)).toMatchObject({ sub: userId });
        jest.spyOn(Date, 'now').mockReturnValue((iat + MAX_AGE) * 1000 + 1);
        expect(() => tokens.verifyAccess(jwt)).toThrow(
          expect.objectContaining({ code: 'TOKEN_EXPIRED' }),
        );
      });

      it('are still refused with TOKEN_EXPIRED when they expire', () => {
        const jwt = tokens.signAccess(userId, sessionId);
        expect(tokens.verifyAccess(jwt)).toMatchObject({ sub: userId });
        const exp = decode(jwt, 1).exp as number;
        jest.spyOn(Date, 'now').mockReturnValue(exp * 1000 + 1);
        expect(() => tokens.verifyAccess(jwt)).toThrow(
          expect.objectContaining({ code: 'TOKEN_EXPIRED' }),
        );
      });

      it('do not vouch for a token that differs by one character', () => {
        const jwt = tokens.signAccess(userId, sessionId);
        tokens.verifyAccess(jwt);
        const at = jwt.lastIndexOf('.') + 5;
        const tampered = jwt.slice(0, at) + (jwt[at] === 'A' ? 'B' : 'A') + jwt.slice(at + 1);
        expect(() => tokens.verifyAccess(tampered)).toThrow(
          expect.objectContaining({ code: 'TOKEN_INVALID' }),
        );
        expect(tokens.verifyAccess(jwt)).toMatchObject({ sid: sessionId });
      });
    });
  });

  describe('refresh tokens', () => {
    it('round-trip the session and generation', () => {
      const token = tokens.refreshToken(sessionId, 7);
      expect(tokens.parseRefresh(token)).toEqual({ sessionId, generation: 7 });
    });

    it('carry a 256-bit MAC and are deterministic per session and generation', () => {
      const token = tokens.refreshToken(sessionId, 1);
      expect(Buffer.from(token, 'base64url').length).toBe(52);
      expect(tokens.refreshToken(sessionId, 1)).toBe(token);
      expect(tokens.refreshToken(sessionId, 2)).not.toBe(token);
      expect(tokens.refreshToken(randomUUID(), 1)).not.toBe(token);
    });

    it('cannot be forged without the server key', () => {
      const token = tokens.refreshToken(sessionId, 3);
      const raw = Buffer.from(token, 'base64url');
      raw.writeUInt32BE(4, 16); // bump the generation, keep the old MAC
      expect(tokens.parseRefresh(raw.toString('base64url'))).toBeNull();
      expect(
        service({ JWT_SECRET: 'another-secret-that-is-also-long-enough-1' }).tokens.parseRefresh(
          token,
        ),
      ).toBeNull();
    });

    it('are never taken for access tokens, nor the reverse', () => {
      const refresh = tokens.refreshToken(sessionId, 0);
      expect(() => tokens.verifyAccess(refresh)).toThrow(
        expect.objectContaining({ code: 'TOKEN_INVALID' }),
      );
      expect(tokens.parseRefresh(tokens.signAccess(userId, sessionId))).toBeNull();
    });

    it.each(['', 'x', 'a'.repeat(70), '!'.repeat(70)])('parse garbage %j as null', (garbage) => {
      expect(tokens.parseRefresh(garbage)).toBeNull();
    });
  });
});

describe('JwtKeys', () => {
  it('refuses a private key of another type than the algorithm signs with', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
    const keys = (algorithm: string, key: KeyObject) =>
      new JwtKeys(
        new AppConfig(
          validateEnv({
            DATA_DIR: 'memory://',
            JWT_ALGORITHM: algorithm,
            JWT_PRIVATE_KEY: pem(key),
          }),
        ),
      );
    expect(() => keys('EdDSA', rsa)).toThrow(/EdDSA needs a private key of type ed25519, not rsa/);
    expect(() => keys('RS256', ed)).toThrow(/RS256 needs a private key of type rsa, not ed25519/);
    expect(keys('EdDSA', ed).publishedKeys()).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' }),
    ]);
  });
});
