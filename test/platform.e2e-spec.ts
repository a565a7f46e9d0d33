import { JwtService } from '@nestjs/jwt';
import {
  generateKeyPairSync,
  createPublicKey,
  randomUUID,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PruneService } from '../src/maintenance/prune.service';
import { ADMIN_PASSWORD, TestApp, bearer } from './helpers/app';
import { relayedDatabase } from './helpers/relay';
import { directUrl, dropDatabase, onServer } from './helpers/databases';
import { until } from './helpers/service';

const rsaPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

/**
 * An access token's alg, the JWKS entry of its kid, and whether that public
 * key verifies the token's signature offline, as a relying party would.
 */
async function verifyOffline(t: TestApp, accessToken: string) {
  const [header, payload, signature] = accessToken.split('.');
  const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as {
    alg: string;
    kid: string;
  };
  const jwks = await t.http.get('/.well-known/jwks.json').expect(200);
  const keys = jwks.body.keys as Array<Record<string, string>>;
  const jwk = keys.find((k) => k.kid === kid);
  // ES256 signatures are r and s side by side (RFC 7518), not DER.
  const key = createPublicKey({ key: jwk ?? {}, format: 'jwk' });
  const valid =
    jwk !== undefined &&
    cryptoVerify(
      alg === 'EdDSA' ? null : 'sha256',
      Buffer.from(`${header}.${payload}`),
      alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      Buffer.from(signature, 'base64url'),
    );
  return { alg, jwk, keys, valid, text: JSON.stringify(jwks.body) };
}

describe('RS256 signing with a published JWKS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bank-keys-'));
  const current = rsaPem();
  const retired = rsaPem();
  let t: TestApp;
  beforeAll(async () => {
    writeFileSync(
      join(dir, 'retired.pem'),
      createPublicKey(retired).export({ type: 'spki', format: 'pem' }),
    );
    t = await TestApp.start({
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: current,
      JWT_RETIRED_PUBLIC_KEYS_FILE: join(dir, 'retired.pem'),
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs access tokens that verify offline with the published key of their kid', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const offline = await verifyOffline(t, pair.accessToken);
    expect(offline.alg).toBe('RS256');
    expect(offline.keys).toHaveLength(2);
    expect(offline.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(offline.text).not.toMatch(/"d"|PRIVATE/);
    expect(offline.valid).toBe(true);
    await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(200);
  });

  it('still accepts a token signed with a retired key, and refuses one from an unknown key', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const claims = JSON.parse(
      Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString(),
    ) as Record<string, unknown>;
    const currentKid = (
      JSON.parse(Buffer.from(pair.accessToken.split('.')[0], 'base64url').toString()) as {
        kid: string;
      }
    ).kid;
    const jwks = await t.http.get('/.well-known/jwks.json');
    const retiredKid = jwks.body.keys.find((k: { kid: string }) => k.kid !== currentKid)
      .kid as string;
    const jwt = new JwtService({});
    const sign = (key: string, kid: string) =>
      jwt.sign(
        { ...claims, jti: randomUUID() },
        { privateKey: key, algorithm: 'RS256', keyid: kid },
      );
    await t.http
      .get('/api/v1/auth/me')
      .set(bearer(sign(retired, retiredKid)))
      .expect(200);
    const stranger = rsaPem();
    const res = await t.http.get('/api/v1/auth/me').set(bearer(sign(stranger, retiredKid)));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_INVALID');
  });

  it('refuses an HS256 token even when signed with the public key as secret', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const claims = pair.accessToken.split('.')[1];
    const jwks = await t.http.get('/.well-known/jwks.json');
    const { createHmac } = await import('node:crypto');
    const header = Buffer.from(
      JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwks.body.keys[0].kid }),
    ).toString('base64url');
    const pem = createPublicKey({ key: jwks.body.keys[0], format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const sig = createHmac('sha256', pem).update(`${header}.${claims}`).digest('base64url');
    await t.http
      .get('/api/v1/auth/me')
      .set(bearer(`${header}.${claims}.${sig}`))
      .expect(401);
  });
});

describe('RS256: a token with an unknown kid', () => {
  it('is TOKEN_INVALID, like any token the service did not sign', async () => {
    const key = rsaPem();
    const t = await TestApp.start({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: key });
    try {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      const claims = JSON.parse(
        Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString(),
      ) as Record<string, unknown>;
      const forged = new JwtService({}).sign(
        { ...claims, jti: randomUUID() },
        { privateKey: key, algorithm: 'RS256', keyid: 'a-kid-nobody-published' },
      );
      const res = await t.http.get('/api/v1/auth/me').set(bearer(forged));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('TOKEN_INVALID');
    } finally {
      await t.close();
    }
  });
});

describe('EdDSA (Ed25519) signing with a published JWKS', () => {
  let t: TestApp;
  const { privateKey } = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    t = await TestApp.start({
      JWT_ALGORITHM: 'EdDSA',
      JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs access tokens that verify offline with the published OKP key of their kid', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const offline = await verifyOffline(t, pair.accessToken);
    expect(offline.alg).toBe('EdDSA');
    expect(offline.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(offline.text).not.toMatch(/"d"|PRIVATE/);
    expect(offline.valid).toBe(true);
    await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(200);
  });

  it('refuses a token signed by another Ed25519 key', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const [header, payload] = pair.accessToken.split('.');
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = `${header}.${payload}.${cryptoSign(null, Buffer.from(`${header}.${payload}`), other).toString('base64url')}`;
    const res = await t.http.get('/api/v1/auth/me').set(bearer(forged));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_INVALID');
  });
});

describe('ES256 (P-256) signing with a published JWKS', () => {
  let t: TestApp;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  beforeAll(async () => {
    t = await TestApp.start({
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs access tokens that verify offline with the published EC key of their kid', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const offline = await verifyOffline(t, pair.accessToken);
    expect(offline.alg).toBe('ES256');
    expect(offline.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(offline.text).not.toMatch(/"d"|PRIVATE/);
    expect(offline.valid).toBe(true);
    await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(200);
  });

  it('refuses a token signed by another P-256 key, and an HS256 token', async () => {
    const pair = await t.login('admin', ADMIN_PASSWORD);
    const [header, payload] = pair.accessToken.split('.');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signature = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), {
      key: other,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');
    const forged = await t.http
      .get('/api/v1/auth/me')
      .set(bearer(`${header}.${payload}.${signature}`));
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('TOKEN_INVALID');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const hs = new JwtService({ secret: 'a-secret-someone-guessed-for-hs256-tokens' }).sign(claims);
    const downgraded = await t.http.get('/api/v1/auth/me').set(bearer(hs));
    expect(downgraded.status).toBe(401);
    expect(downgraded.body.code).toBe('TOKEN_INVALID');
  });

  it('refuses to start with a key of another curve', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    await expect(TestApp.start({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: p384 })).rejects.toThrow(
      /ES256 needs a private key of type ec \(P-256\)/,
    );
  });
});

describe('JWKS with HS256', () => {
  it('publishes no key (the shared secret is never published)', async () => {
    const t = await TestApp.start();
    try {
      const res = await t.http.get('/.well-known/jwks.json').expect(200);
      expect(res.body).toEqual({ keys: [] });
    } finally {
      await t.close();
    }
  });
});

describe('schema', () => {
  it('the entities match the migrations exactly (nothing for migration:generate to add)', async () => {
    const t = await TestApp.start();
    try {
      const sql = await t.app.get(DataSource).driver.createSchemaBuilder().log();
      expect(sql.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('pruning', () => {
  it('removes ended sessions, login failures past the throttling window, known addresses past 30 days, idempotency keys past 24 h, statement slots past their lease, payee verifications past the hour', async () => {
    const t = await TestApp.start();
    try {
      const db = t.app.get(DataSource);
      const live = await t.login('admin', ADMIN_PASSWORD);
      const [{ id: userId }] = await db.query<Array<{ id: string }>>(
        `SELECT id FROM users WHERE username = 'admin'`,
      );
      await db.query(
        `INSERT INTO sessions (id, user_id, last_used_at, expires_at, refresh_hash, revoked_at)
         VALUES (gen_random_uuid(), $1, now(), now() - interval '2 days', '\\x00', NULL),
                (gen_random_uuid(), $1, now(), now() + interval '1 day', '\\x00', now() - interval '2 days')`,
        [userId],
      );
      await db.query(
        `INSERT INTO login_failures (username, ip, created_at)
         VALUES ('old', '192.0.2.1', now() - interval '16 minutes'), ('new', '192.0.2.1', now())`,
      );
      await db.query(
        `INSERT INTO login_successes (username, ip, last_success_at)
         VALUES ('old', '192.0.2.1', now() - interval '31 days'), ('new', '192.0.2.1', now() - interval '29 days')`,
      );
      await db.query(
        `INSERT INTO idempotency_keys (user_id, key, route, request_hash, response_status, response_type, response_body, created_at)
         VALUES ($1, 'old', 'POST /x', '\\x00', 201, 'application/json', '{}', now() - interval '25 hours'),
                ($1, 'new', 'POST /x', '\\x00', 201, 'application/json', '{}', now() - interval '23 hours')`,
        [userId],
      );
      await db.query(
        `INSERT INTO statement_slots (user_id, slot, holder, expires_at)
         VALUES ($1, 1, gen_random_uuid(), now() - interval '1 second'),
                ($1, 2, gen_random_uuid(), now() + interval '30 seconds')`,
        [userId],
      );
      await db.query(
        `INSERT INTO payee_verifications (user_id, created_at)
         VALUES ($1, now() - interval '61 minutes'), ($1, now() - interval '59 minutes')`,
        [userId],
      );
      const removed = await t.app.get(PruneService).run();
      expect(removed).toEqual({
        sessions: 2,
        login_failures: 1,
        login_successes: 1,
        idempotency_keys: 1,
        statement_slots: 1,
        payee_verifications: 1,
      });
      const slots = await db.query<Array<{ slot: number }>>(`SELECT slot FROM statement_slots`);
      expect(slots).toEqual([{ slot: 2 }]);
      const known = await db.query<Array<{ username: string }>>(
        `SELECT username FROM login_successes ORDER BY username`,
      );
      expect(known.map((k) => k.username)).toEqual(['admin', 'new']);
      const keys = await db.query<Array<{ key: string }>>(`SELECT key FROM idempotency_keys`);
      expect(keys.map((k) => k.key)).toEqual(['new']);
      const failures = await db.query<Array<{ username: string }>>(
        `SELECT username FROM login_failures`,
      );
      expect(failures.map((f) => f.username)).toEqual(['new']);
      await t.http.get('/api/v1/auth/me').set(bearer(live.accessToken)).expect(200);
    } finally {
      await t.close();
    }
  });
});

(onServer ? describe : describe.skip)('database outage', () => {
  it('a connection that dies between two statements of a transaction fails that transaction, not the process', async () => {
    const t = await TestApp.start();
    const killer = new Client({ connectionString: directUrl(t.database!) });
    await killer.connect();
    try {
      const db = t.app.get(DataSource);
      const transaction = db.transaction(async (em) => {
        const [{ pid }] = await em.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid');
        // As a failover or an administrator does it: the server ends the connection while the
        // transaction waits between two statements, and says so on the connection.
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        await until('the server to end the connection', async () => {
          const { rows } = await killer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
            pid,
          ]);
          return rows.length === 0 || undefined;
        });
        await em.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      // The process is alive, and its pool has replaced the connection.
      await t.http.get('/health').expect(200);
      await t.login('admin', ADMIN_PASSWORD);
    } finally {
      await killer.end();
      await t.close();
    }
  });

  it('answers 503 while the database is unreachable and recovers without a restart', async () => {
    const { database, relay, url } = await relayedDatabase();
    const t = await TestApp.start({ DATABASE_URL: url }, { database });
    try {
      const pair = await t.login('admin', ADMIN_PASSWORD);
      await t.http.get('/health').expect(200);

      await relay.down();
      const health = await t.http.get('/health');
      expect(health.status).toBe(503);
      const me = await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken));
      expect(me.status).toBe(503);
      expect(me.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(JSON.stringify(me.body)).not.toMatch(/ECONNREFUSED|stack|at /);

      await relay.up();
      let recovered = 0;
      for (let i = 0; i < 20 && recovered !== 200; i++) {
        recovered = (await t.http.get('/health')).status;
        if (recovered !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(recovered).toBe(200);
      await t.http.get('/api/v1/auth/me').set(bearer(pair.accessToken)).expect(200);
    } finally {
      await t.app.close();
      await relay.down();
      await dropDatabase(database);
    }
  });
});
