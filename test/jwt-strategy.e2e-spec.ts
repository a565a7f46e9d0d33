import { JWT_STRATEGY, JwtStrategy } from '../src/auth/guard/jwt.strategy';
import { MetricsServer } from '../src/metrics/metrics-server';
import { ADMIN_PASSWORD, TestApp, bearer } from './helpers/app';
import { expectProblem } from './helpers/expect';
import { grew, scrape } from './helpers/metrics';

/**
 * The guard is AuthGuard('jwt') over a passport-jwt strategy, and keeps its
 * speed by remembering the tokens it verified: a token an instance sees for
 * the first time goes through passport and the strategy; the same token again
 * is answered from the cache of verified tokens, without passport.
 */
describe('the JWT strategy behind the guard', () => {
  let t: TestApp;
  let metrics: string;
  let strategy: JwtStrategy;

  beforeAll(async () => {
    t = await TestApp.start({ METRICS_ENABLED: 'true', METRICS_PORT: '0' });
    metrics = await t.app.get(MetricsServer).listen();
    strategy = t.app.get<JwtStrategy>(JWT_STRATEGY);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is a passport-jwt strategy registered as "jwt"', () => {
    expect(strategy).toBeInstanceOf(JwtStrategy);
  });

  it('verifies a new token through passport-jwt once, then answers it from the cache', async () => {
    const { accessToken } = await t.login('admin', ADMIN_PASSWORD);
    const validate = jest.spyOn(strategy, 'validate');
    try {
      const before = await scrape(metrics);
      await t.http.get('/api/v1/auth/me').set(bearer(accessToken)).expect(200);
      expect(validate).toHaveBeenCalledTimes(1);
      expect(validate.mock.calls[0][0]).toMatchObject({ typ: 'access' });
      await t.http.get('/api/v1/auth/me').set(bearer(accessToken)).expect(200);
      await t.http.get('/api/v1/auth/sessions').set(bearer(accessToken)).expect(200);
      expect(validate).toHaveBeenCalledTimes(1);
      const after = await scrape(metrics);
      const lookups = 'bank_access_token_cache_lookups_total';
      expect(grew(before, after, lookups, { result: 'miss' })).toBe(1);
      expect(grew(before, after, lookups, { result: 'hit' })).toBe(2);
    } finally {
      validate.mockRestore();
    }
  });

  it('answers passport’s refusals with the API’s codes', async () => {
    const { accessToken } = await t.login('admin', ADMIN_PASSWORD);
    const [header, payload, signature] = accessToken.split('.');
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expectProblem(await t.http.get('/api/v1/auth/me').set(bearer(flipped)), 401, 'TOKEN_INVALID');
    expectProblem(await t.http.get('/api/v1/auth/me'), 401, 'UNAUTHENTICATED');
    expectProblem(
      await t.http.get('/api/v1/auth/me').set('Authorization', 'Bearer '),
      401,
      'UNAUTHENTICATED',
    );
  });
});
