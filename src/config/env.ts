import Joi from 'joi';
import { parseDuration } from './duration';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;

/** Secrets that appear in this repository's examples: never acceptable in production. */
export const EXAMPLE_SECRETS = new Set([
  'change-me-to-at-least-32-random-bytes-of-secret',
  'docker-compose-example-secret-change-me-please',
]);

// Joi does not run custom rules on defaults, so the default is given already parsed.
const duration = (fallback: string, max?: string) =>
  Joi.string()
    .default(parseDuration(fallback))
    .custom((value: string, helpers) => {
      const seconds = parseDuration(value);
      if (seconds === null || seconds <= 0) return helpers.error('duration.invalid');
      if (max && seconds > parseDuration(max)!) return helpers.error('duration.max', { max });
      return seconds;
    })
    .messages({
      'duration.invalid':
        '{{#label}} must be whole seconds or a number with s, m, h or d (e.g. 900, 15m, 15d)',
      'duration.max': '{{#label}} must be at most {{#max}}',
    });

/**
 * The serialized origin a browser sends (scheme://host[:port], lower case, no
 * default port), or null. An origin with a path, a trailing slash, a query or
 * no scheme never matches a browser's Origin header: refused at boot instead.
 */
export function normalizeOrigin(value: string): string | null {
  if (value === '*') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.origin === value.toLowerCase() ? url.origin : null;
}

const origins = Joi.string()
  .allow('')
  .default('')
  .custom((value: string, helpers) => {
    const list = value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    const normalized: string[] = [];
    for (const origin of list) {
      const good = normalizeOrigin(origin);
      if (good === null) return helpers.error('origin.invalid', { origin });
      normalized.push(good);
    }
    return normalized.join(',');
  })
  .messages({
    'origin.invalid':
      '{{#label}} has a malformed origin: {{#origin}} (an origin is scheme://host[:port] with ' +
      'no path, trailing slash or query, e.g. http://localhost:5173; or * for any)',
  });

const boolean = (fallback: boolean) =>
  Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off', '').default(fallback);

export const envSchema = Joi.object({
  NODE_ENV: Joi.string()
    .valid(...NODE_ENVS)
    .default('development'),
  PORT: Joi.number().integer().min(0).max(65535).default(3000),
  HOST: Joi.string().default('0.0.0.0'),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .empty(''),
  DATABASE_POOL_SIZE: Joi.number().integer().min(1).max(200).default(6),
  DATABASE_IDLE_TIMEOUT: duration('10s'),
  DATABASE_POOLER: Joi.string().valid('none', 'transaction').default('none'),
  WEB_CONCURRENCY: Joi.number().integer().min(1).max(64).default(1),
  DATA_DIR: Joi.string().default('./data'),
  JWT_ALGORITHM: Joi.string()
    .valid(...JWT_ALGORITHMS)
    .default('HS256'),
  JWT_SECRET: Joi.string().empty(''),
  JWT_PRIVATE_KEY: Joi.string().empty(''),
  JWT_PRIVATE_KEY_FILE: Joi.string().empty(''),
  JWT_RETIRED_PUBLIC_KEYS_FILE: Joi.string().empty(''),
  JWT_ISSUER: Joi.string().default('bank-api'),
  JWT_AUDIENCE: Joi.string().default('bank-api'),
  ACCESS_TOKEN_TTL: duration('15m'),
  ACCESS_TOKEN_CACHE_SIZE: Joi.number().integer().min(0).max(10_000_000).default(20_000),
  REFRESH_TOKEN_TTL: duration('15d'),
  REFRESH_REUSE_GRACE: duration('10s'),
  ADMIN_PASSWORD: Joi.string().min(12).max(128).empty(''),
  ADMIN_PASSWORD_FILE: Joi.string().empty(''),
  CORS_ORIGINS: origins,
  CORS_MAX_AGE: duration('10m', '1d'),
  TRUST_PROXY: Joi.string().allow('').default(''),
  LOG_LEVEL: Joi.string()
    .valid(...LOG_LEVELS)
    .default('info'),
  DOCS_ENABLED: boolean(true),
  SEED_DEMO: boolean(false),
  DEFAULT_CURRENCY: Joi.string()
    .pattern(/^[A-Z]{3}$/)
    .default('EUR')
    .messages({ 'string.pattern.base': '{{#label}} must be an ISO 4217 code such as EUR' }),
  PRUNE_INTERVAL: duration('1h'),
  AUDIT_SEAL_INTERVAL: duration('1s', '1m'),
  // A timer of more than 2^31 - 1 ms (24.8 days) fires at once in Node: these stay well within.
  REQUEST_TIMEOUT: duration('30s', '1h'),
  MAX_CONNECTIONS: Joi.number().integer().min(0).max(1_000_000).default(0),
  STATEMENT_CONCURRENCY: Joi.number().integer().min(1).max(100).default(2),
  STREAM_IDLE_TIMEOUT: duration('30s', '1h'),
  METRICS_ENABLED: boolean(false),
  METRICS_PORT: Joi.number().integer().min(0).max(65535).default(9464),
  METRICS_HOST: Joi.string().hostname().default('127.0.0.1'),
})
  .unknown(true)
  .custom((env: Record<string, unknown>, helpers) => {
    if (env.JWT_ALGORITHM === 'HS256' && env.NODE_ENV === 'production') {
      const secret = env.JWT_SECRET as string | undefined;
      if (!secret) return helpers.error('secret.missing');
      if (Buffer.byteLength(secret) < 32) return helpers.error('secret.short');
      if (EXAMPLE_SECRETS.has(secret)) return helpers.error('secret.example');
    }
    if (env.JWT_SECRET && Buffer.byteLength(env.JWT_SECRET as string) < 32) {
      return helpers.error('secret.short');
    }
    if ((env.WEB_CONCURRENCY as number) > 1 && !env.DATABASE_URL) {
      return helpers.error('workers.embedded');
    }
    if (env.JWT_ALGORITHM !== 'HS256' && !env.JWT_PRIVATE_KEY && !env.JWT_PRIVATE_KEY_FILE) {
      return helpers.error('key.missing');
    }
    if (env.SEED_DEMO && env.NODE_ENV === 'production') return helpers.error('demo.production');
    // Metrics are never served on the public port: refused here rather than as EADDRINUSE.
    if (env.METRICS_ENABLED && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
      return helpers.error('metrics.port');
    }
    return env;
  })
  .messages({
    'secret.missing': 'JWT_SECRET is required in production',
    'secret.short': 'JWT_SECRET must be at least 32 bytes',
    'secret.example': 'JWT_SECRET is an example value; generate a real secret for production',
    'workers.embedded':
      'WEB_CONCURRENCY above 1 needs DATABASE_URL: the embedded database belongs to one process',
    'key.missing':
      'JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE is required when JWT_ALGORITHM is RS256, ES256 or EdDSA',
    'demo.production':
      'SEED_DEMO (--seed-demo) writes logins with known passwords: it is refused in production',
    'metrics.port': 'METRICS_PORT must differ from PORT: metrics are never served on the API port',
  });

export interface Env {
  NODE_ENV: (typeof NODE_ENVS)[number];
  PORT: number;
  HOST: string;
  DATABASE_URL?: string;
  DATABASE_POOL_SIZE: number;
  DATABASE_IDLE_TIMEOUT: number;
  DATABASE_POOLER: 'none' | 'transaction';
  WEB_CONCURRENCY: number;
  DATA_DIR: string;
  JWT_ALGORITHM: (typeof JWT_ALGORITHMS)[number];
  JWT_SECRET?: string;
  JWT_PRIVATE_KEY?: string;
  JWT_PRIVATE_KEY_FILE?: string;
  JWT_RETIRED_PUBLIC_KEYS_FILE?: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  ACCESS_TOKEN_TTL: number;
  ACCESS_TOKEN_CACHE_SIZE: number;
  REFRESH_TOKEN_TTL: number;
  REFRESH_REUSE_GRACE: number;
  ADMIN_PASSWORD?: string;
  ADMIN_PASSWORD_FILE?: string;
  CORS_ORIGINS: string;
  CORS_MAX_AGE: number;
  TRUST_PROXY: string;
  LOG_LEVEL: (typeof LOG_LEVELS)[number];
  DOCS_ENABLED: boolean;
  SEED_DEMO: boolean;
  DEFAULT_CURRENCY: string;
  PRUNE_INTERVAL: number;
  AUDIT_SEAL_INTERVAL: number;
  REQUEST_TIMEOUT: number;
  MAX_CONNECTIONS: number;
  STATEMENT_CONCURRENCY: number;
  STREAM_IDLE_TIMEOUT: number;
  METRICS_ENABLED: boolean;
  METRICS_PORT: number;
  METRICS_HOST: string;
}

/** Validates the environment; throws one error that names every bad variable. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const result = envSchema.validate(raw, { abortEarly: false, convert: true });
  if (result.error) {
    const lines = result.error.details.map((d) => `  - ${d.message.replace(/"/g, '')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.value as Env;
}
