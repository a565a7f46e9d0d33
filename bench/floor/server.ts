/**
 * The floor: a bare node:http server doing exactly the work of the service's
 * two hottest reads, to measure what the framework costs on top of it.
 *
 * - parse the request;
 * - verify the HS256 access token: algorithm, signature (an HMAC with a key
 *   made once), exp, age by iat, iss, aud, typ; a verified token is
 *   remembered by its whole text until it expires, with the service's
 *   VerifiedTokens;
 * - run the service's own statement (the same SQL text, a named prepared
 *   statement on a pg pool of the same size);
 * - format the same JSON, with the serializers the service compiles from the
 *   same schemas (fast-json-stringify);
 * - send the same headers the contract asks of every answer: X-Request-Id (the
 *   caller's sane one or a new one), Cache-Control: no-store and the service's
 *   security headers. The bench checks that the floor's answers and the
 *   service's are alike, headers included, before it measures.
 *
 * GET /api/v1/accounts/:id and GET /api/v1/auth/me; anything else is 404.
 * Settings: PORT, DATABASE_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE,
 * ACCESS_TOKEN_TTL, DATABASE_POOL_SIZE (as the service).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import fastJson from 'fast-json-stringify';
import { Pool } from 'pg';
import { AccountRow, GET_ACCOUNT_SQL } from '../../src/accounts/accounts.repository';
import { toAccountDto } from '../../src/accounts/accounts.service';
import { ACCOUNT_SCHEMA } from '../../src/accounts/dto/accounts.dto';
import { ME_SCHEMA, toMeDto } from '../../src/auth/dto/auth.dto';
import { userFromMe } from '../../src/auth/caller';
import { MeRow } from '../../src/auth/session-sql';
import { requestIdFrom } from '../../src/common/request-id';
import { securityHeaders } from '../../src/common/security-headers';
import { SESSION_CHECK_SQL } from '../../src/auth/sessions/sessions.repository';
import { VerifiedTokens } from '../../src/auth/tokens/verified-tokens';
import { IAT_LEEWAY_SECONDS } from '../../src/auth/tokens/tokens.service';
import { parseDuration } from '../../src/config/duration';

const env = process.env;
const pool = new Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DATABASE_POOL_SIZE ?? 6),
});
const hmacKey = Buffer.from(env.JWT_SECRET!);
const ISSUER = env.JWT_ISSUER ?? 'bank-api';
const AUDIENCE = env.JWT_AUDIENCE ?? 'bank-api';
const MAX_AGE = (parseDuration(env.ACCESS_TOKEN_TTL ?? '15m') ?? 900) + IAT_LEEWAY_SECONDS;

interface Claims {
  sub: string;
  sid: string;
  typ: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

const verified = new VerifiedTokens<Claims>(MAX_AGE);

function verify(authorization: string | undefined): Claims | null {
  if (!authorization?.startsWith('Bearer ')) return null;
  const token = authorization.slice(7);
  const known = verified.get(token);
  if (known) return known;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0) return null;
  const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as {
    alg?: string;
  };
  if (header.alg !== 'HS256') return null;
  const expected = createHmac('sha256', hmacKey).update(token.slice(0, second)).digest();
  const given = Buffer.from(token.slice(second + 1), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(
    Buffer.from(token.slice(first + 1, second), 'base64url').toString(),
  ) as Claims;
  if (claims.typ !== 'access' || claims.iss !== ISSUER || claims.aud !== AUDIENCE) return null;
  const now = Date.now();
  if (claims.exp * 1000 <= now || (claims.iat + MAX_AGE) * 1000 < now) return null;
  if (claims.iat * 1000 > now + IAT_LEEWAY_SECONDS * 1000) return null;
  return verified.add(token, claims);
}

const writeAccount = fastJson(ACCOUNT_SCHEMA);
const writeMe = fastJson(ME_SCHEMA);

const SECURITY_HEADERS = securityHeaders();

/**
 * One literal, the shared headers spread last: a copy of them with the length
 * and request id added after cost the floor 5-10 µs more CPU per read.
 */
function send(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestIdFrom(req.headers['x-request-id']),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(text);
}

const fail = (req: IncomingMessage, res: ServerResponse, status: number, code: string) =>
  send(req, res, status, JSON.stringify({ code }));

createServer((req, res) => {
  const claims = verify(req.headers.authorization);
  if (!claims) return fail(req, res, 401, 'UNAUTHENTICATED');
  const account = /^\/api\/v1\/accounts\/([0-9a-f-]{36})$/.exec(req.url ?? '');
  if (account) {
    pool
      .query<MeRow & AccountRow>({
        name: 'account-get-me',
        text: GET_ACCOUNT_SQL,
        values: [claims.sid, claims.sub, account[1]],
      })
      .then(({ rows }) => {
        if (!userFromMe(rows[0], claims.sid)) return fail(req, res, 401, 'TOKEN_INVALID');
        if (!rows[0].id) return fail(req, res, 404, 'NOT_FOUND');
        send(req, res, 200, writeAccount(toAccountDto(rows[0])));
      })
      .catch(() => fail(req, res, 500, 'INTERNAL'));
    return;
  }
  if (req.url === '/api/v1/auth/me') {
    pool
      .query<MeRow>({
        name: 'session-check',
        text: SESSION_CHECK_SQL,
        values: [claims.sid, claims.sub],
      })
      .then(({ rows }) => {
        const user = userFromMe(rows[0], claims.sid);
        if (!user) return fail(req, res, 401, 'TOKEN_INVALID');
        send(req, res, 200, writeMe(toMeDto(user)));
      })
      .catch(() => fail(req, res, 500, 'INTERNAL'));
    return;
  }
  fail(req, res, 404, 'NOT_FOUND');
}).listen(Number(env.PORT), '127.0.0.1');

// An exit, not a kill: what --cpu-prof (BENCH_NODE_ARGS) collected is written at exit.
process.once('SIGTERM', () => process.exit(0));
