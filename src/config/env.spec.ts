import { AppConfig, parseTrustProxy } from './app-config';
import { validateEnv } from './env';

const SECRET = 'a-production-secret-that-is-long-enough-0123456789';

describe('validateEnv', () => {
  it('fills the documented defaults', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      ACCESS_TOKEN_TTL: 900,
      REFRESH_TOKEN_TTL: 15 * 86400,
      REFRESH_REUSE_GRACE: 10,
      JWT_ALGORITHM: 'HS256',
      DEFAULT_CURRENCY: 'EUR',
      DOCS_ENABLED: true,
      LOG_LEVEL: 'info',
      METRICS_ENABLED: false,
      METRICS_PORT: 9464,
      METRICS_HOST: '127.0.0.1',
      REQUEST_TIMEOUT: 30,
      MAX_CONNECTIONS: 0,
      STATEMENT_CONCURRENCY: 2,
      STREAM_IDLE_TIMEOUT: 30,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('reads durations with units', () => {
    const env = validateEnv({
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_TOKEN_TTL: '2d',
      REFRESH_REUSE_GRACE: '3',
    });
    expect([env.ACCESS_TOKEN_TTL, env.REFRESH_TOKEN_TTL, env.REFRESH_REUSE_GRACE]).toEqual([
      300, 172800, 3,
    ]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, 'ACCESS_TOKEN_TTL'],
    [{ STREAM_IDLE_TIMEOUT: '30d' }, 'STREAM_IDLE_TIMEOUT must be at most 1h'],
    [{ REQUEST_TIMEOUT: '0' }, 'REQUEST_TIMEOUT'],
    [{ STATEMENT_CONCURRENCY: '0' }, 'STATEMENT_CONCURRENCY'],
    [{ REFRESH_TOKEN_TTL: '0' }, 'REFRESH_TOKEN_TTL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ DEFAULT_CURRENCY: 'euro' }, 'DEFAULT_CURRENCY'],
    [{ ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ DOCS_ENABLED: 'maybe' }, 'DOCS_ENABLED'],
    [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET'],
    [{ METRICS_ENABLED: 'sometimes' }, 'METRICS_ENABLED'],
    [{ METRICS_PORT: '-1' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '65536' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '9464.5' }, 'METRICS_PORT'],
    [{ METRICS_HOST: 'http://127.0.0.1' }, 'METRICS_HOST'],
    [{ METRICS_HOST: '' }, 'METRICS_HOST'],
  ])('stops the boot naming the variable for %j', (raw, name) => {
    expect(() => validateEnv(raw)).toThrow(name);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['', false],
  ])('reads METRICS_ENABLED=%j as DOCS_ENABLED is read', (text, enabled) => {
    expect(validateEnv({ METRICS_ENABLED: text }).METRICS_ENABLED).toBe(enabled);
  });

  it('reads the metrics port and address', () => {
    const env = validateEnv({
      DATA_DIR: 'memory://',
      METRICS_ENABLED: 'true',
      METRICS_PORT: '9100',
      METRICS_HOST: '::',
    });
    expect(new AppConfig(env).metrics).toEqual({ enabled: true, port: 9100, host: '::' });
  });

  it('refuses metrics on the API port, and only when metrics are on', () => {
    expect(() => validateEnv({ METRICS_ENABLED: 'true', PORT: '9464' })).toThrow(
      'METRICS_PORT must differ from PORT',
    );
    expect(validateEnv({ METRICS_ENABLED: 'false', PORT: '9464' }).PORT).toBe(9464);
    // Port 0 takes a free port each time: two of them never collide.
    expect(validateEnv({ METRICS_ENABLED: 'true', PORT: '0', METRICS_PORT: '0' }).PORT).toBe(0);
  });

  it('names every bad variable at once', () => {
    expect(() => validateEnv({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
  });

  describe('in production', () => {
    it('refuses a missing JWT_SECRET', () => {
      expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow('JWT_SECRET is required');
    });

    it('refuses a short JWT_SECRET', () => {
      expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toThrow(
        'at least 32 bytes',
      );
    });

    it('refuses the example JWT_SECRET', () => {
      expect(() =>
        validateEnv({
          NODE_ENV: 'production',
          JWT_SECRET: 'change-me-to-at-least-32-random-bytes-of-secret',
        }),
      ).toThrow('example');
    });

    it('accepts a real secret', () => {
      expect(validateEnv({ NODE_ENV: 'production', JWT_SECRET: SECRET }).JWT_SECRET).toBe(SECRET);
    });

    it('requires a private key for RS256', () => {
      expect(() => validateEnv({ NODE_ENV: 'production', JWT_ALGORITHM: 'RS256' })).toThrow(
        'JWT_PRIVATE_KEY',
      );
    });
  });

  it('generates a development secret when none is set, and keeps it in memory for memory://', () => {
    const a = new AppConfig(validateEnv({ DATA_DIR: 'memory://' }));
    expect(Buffer.byteLength(a.jwt.secret)).toBeGreaterThanOrEqual(32);
  });
});

describe('CORS_ORIGINS and CORS_MAX_AGE', () => {
  it.each([
    'https://app.example/',
    'https://app.example/app',
    'app.example',
    'localhost:5173',
    'https://app.example?x=1',
    'https://app.example#top',
    'ftp://app.example',
    'null',
  ])('stops the boot naming the variable and the bad value %j', (origin) => {
    expect(() => validateEnv({ CORS_ORIGINS: `http://localhost:5173,${origin}` })).toThrow(
      `CORS_ORIGINS has a malformed origin: ${origin}`,
    );
  });

  it('reads a list of origins as browsers send them, and *', () => {
    const config = (raw: string) =>
      new AppConfig(validateEnv({ DATA_DIR: 'memory://', CORS_ORIGINS: raw })).corsOrigins;
    expect(config(' http://localhost:5173 , https://App.Example ')).toEqual([
      'http://localhost:5173',
      'https://app.example',
    ]);
    expect(config('*')).toEqual(['*']);
    expect(config('')).toEqual([]);
  });

  it('caches preflights 10 minutes unless told otherwise', () => {
    expect(validateEnv({}).CORS_MAX_AGE).toBe(600);
    expect(validateEnv({ CORS_MAX_AGE: '1h' }).CORS_MAX_AGE).toBe(3600);
    expect(() => validateEnv({ CORS_MAX_AGE: '2d' })).toThrow('CORS_MAX_AGE');
  });
});

describe('parseTrustProxy', () => {
  it.each([
    ['', false],
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.1, 10.0.0.0/8', ['10.0.0.1', '10.0.0.0/8']],
    ['loopback', ['loopback']],
  ])('reads %j', (text, expected) => {
    expect(parseTrustProxy(text)).toEqual(expected);
  });
});
