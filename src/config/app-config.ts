import { randomBytes, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Env } from './env';
import { ensurePrivateFolder, writeOwnerOnlyFile } from './private-files';
import { checkedSigningKey } from './signing-key';

export type TrustProxy = boolean | number | string[];

/**
 * Typed, validated configuration. Built once from the environment; code reads
 * this, never process.env.
 */
export class AppConfig {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly port: number;
  readonly host: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly docsEnabled: boolean;
  readonly defaultCurrency: string;
  /** Allowed browser origins, as browsers send them (lower case); `*` for any; empty for none. */
  readonly corsOrigins: string[];
  /** Seconds a browser may cache a preflight's answer. */
  readonly corsMaxAgeSeconds: number;
  readonly trustProxy: TrustProxy;
  readonly pruneIntervalSeconds: number;
  /** How often the audit log's sealer runs, in ms. */
  readonly auditSealInterval: number;
  /** Limits on what one connection may hold: see docs/operations.md, "Limits and timeouts". */
  readonly http: {
    /** Seconds for a request's headers and body to arrive (408 after). */
    requestTimeoutSeconds: number;
    /** Open connections at most; 0: derived from the process's open-files limit. */
    maxConnections: number;
  };
  readonly statements: {
    /** Statements one user may stream at once, over every instance. */
    concurrency: number;
    /** Seconds a statement's reader may take nothing before it is cut off. */
    idleTimeoutSeconds: number;
  };
  /** Prometheus metrics: off unless enabled, and then served on their own port, never PORT. */
  readonly metrics: { enabled: boolean; port: number; host: string };
  readonly database: {
    url?: string;
    poolSize: number;
    /** Seconds an idle pool connection is kept before it is closed. */
    idleTimeoutSeconds: number;
    /** `transaction`: DATABASE_URL is a transaction-mode pooler (no named statements, no session state). */
    pooler: Env['DATABASE_POOLER'];
    /** Folder of the embedded database, or memory:// for a throwaway one. */
    dataDir: string;
  };
  readonly jwt: {
    algorithm: Env['JWT_ALGORITHM'];
    secret: string;
    privateKeyPem?: string;
    retiredPublicKeysFile?: string;
    issuer: string;
    audience: string;
    accessTtl: number;
    /** Verified access tokens remembered per instance (about 700 bytes each); 0: none. */
    cacheSize: number;
    refreshTtl: number;
    refreshReuseGrace: number;
  };
  /** Key for the HMAC that refresh tokens carry; derived, never the signing key itself. */
  readonly refreshTokenKey: Buffer;
  /** Key for the HMAC that list cursors carry; derived, never the signing key itself. */
  readonly cursorKey: Buffer;
  readonly adminPassword?: string;
  /**
   * Production only: where a generated first admin password is written, never
   * logged. ADMIN_PASSWORD_FILE, else `admin-password` in DATA_DIR (none for memory://).
   */
  readonly adminPasswordFile?: string;

  constructor(env: Env) {
    this.nodeEnv = env.NODE_ENV;
    this.isProduction = env.NODE_ENV === 'production';
    this.port = env.PORT;
    this.host = env.HOST;
    this.logLevel = env.LOG_LEVEL;
    this.docsEnabled = env.DOCS_ENABLED;
    this.defaultCurrency = env.DEFAULT_CURRENCY;
    this.corsOrigins = env.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    this.corsMaxAgeSeconds = env.CORS_MAX_AGE;
    this.trustProxy = parseTrustProxy(env.TRUST_PROXY);
    this.pruneIntervalSeconds = env.PRUNE_INTERVAL;
    this.auditSealInterval = env.AUDIT_SEAL_INTERVAL * 1000;
    this.http = {
      requestTimeoutSeconds: env.REQUEST_TIMEOUT,
      maxConnections: env.MAX_CONNECTIONS,
    };
    this.statements = {
      concurrency: env.STATEMENT_CONCURRENCY,
      idleTimeoutSeconds: env.STREAM_IDLE_TIMEOUT,
    };
    this.metrics = { enabled: env.METRICS_ENABLED, port: env.METRICS_PORT, host: env.METRICS_HOST };
    const dataDir = env.DATA_DIR.startsWith('memory://') ? env.DATA_DIR : resolve(env.DATA_DIR);
    // The embedded database's folder is checked before anything (the development secret) goes in.
    if (!env.DATABASE_URL && !dataDir.startsWith('memory://')) ensurePrivateFolder(dataDir);
    this.database = {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      idleTimeoutSeconds: env.DATABASE_IDLE_TIMEOUT,
      pooler: env.DATABASE_POOLER,
      dataDir,
    };
    const privateKeyPem =
      env.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n') ??
      (env.JWT_PRIVATE_KEY_FILE ? readFileSync(env.JWT_PRIVATE_KEY_FILE, 'utf8') : undefined);
    // Checked here, with the rest of the configuration: before the database starts.
    if (env.JWT_ALGORITHM !== 'HS256' && privateKeyPem)
      checkedSigningKey(env.JWT_ALGORITHM, privateKeyPem);
    const secret = env.JWT_SECRET ?? devSecret(dataDir);
    this.jwt = {
      algorithm: env.JWT_ALGORITHM,
      secret,
      privateKeyPem: env.JWT_ALGORITHM === 'HS256' ? undefined : privateKeyPem,
      retiredPublicKeysFile: env.JWT_RETIRED_PUBLIC_KEYS_FILE,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTtl: env.ACCESS_TOKEN_TTL,
      cacheSize: env.ACCESS_TOKEN_CACHE_SIZE,
      refreshTtl: env.REFRESH_TOKEN_TTL,
      refreshReuseGrace: env.REFRESH_REUSE_GRACE,
    };
    const keyMaterial = env.JWT_ALGORITHM === 'HS256' ? secret : (privateKeyPem ?? secret);
    this.refreshTokenKey = createHmac('sha256', keyMaterial)
      .update('refresh-token-key/v1')
      .digest();
    this.cursorKey = cursorKey(keyMaterial);
    this.adminPassword = env.ADMIN_PASSWORD;
    this.adminPasswordFile = env.ADMIN_PASSWORD_FILE
      ? resolve(env.ADMIN_PASSWORD_FILE)
      : dataDir.startsWith('memory://')
        ? undefined
        : join(dataDir, 'admin-password');
  }
}

/**
 * The cursor key of a service whose token-signing secret is `material`
 * (JWT_SECRET, or the private key's PEM): HKDF-SHA256, so instances with the
 * same configuration share it.
 */
export function cursorKey(material: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'bank-api', 'list-cursor-key/v1', 32));
}

export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept in the
 * data folder, so tokens survive a restart of a development server.
 */
export function devSecret(dataDir: string): string {
  if (dataDir.startsWith('memory://')) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(48).toString('base64url');
    try {
      writeOwnerOnlyFile(file, secret);
      return secret;
    } catch {
      return readFileSync(file, 'utf8').trim();
    }
  }
}
