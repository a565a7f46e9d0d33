/** The floor server (bench/floor/server.ts), started with the service's node flags. */
import { isUUID } from 'class-validator';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, productionCommand, Service, waitHealthy } from './service';
import { NODE_ARGS, ROOT } from './settings';

/** Where bench/floor/tsconfig.json compiles the floor and the service's files it uses. */
const FLOOR_BUILD = join(ROOT, 'node_modules', '.cache', 'bench-floor');

/**
 * Compiles the floor with tsc and starts it with plain node, as the service
 * runs from its build: not through ts-node, whose REPL support loads Node's
 * `domain` module, which then makes every EventEmitter (each pg query is
 * one) track domains.
 */
export async function startFloor(databaseUrl: string, jwtSecret: string): Promise<Service> {
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'bench', 'floor', 'tsconfig.json')],
    { cwd: ROOT, stdio: 'inherit' },
  );
  const port = await freePort();
  const production = productionCommand();
  const child = spawn(
    process.execPath,
    [...production.nodeArgs, ...NODE_ARGS, join(FLOOR_BUILD, 'bench', 'floor', 'server.js')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...production.env,
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        JWT_SECRET: jwtSecret,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const floor = { child, base: `http://127.0.0.1:${port}` };
  await waitHealthy(floor, '/api/v1/auth/me');
  return floor;
}

/** Headers whose values differ between two answers by nature, or by the HTTP server's defaults. */
const OWN_VALUES = new Set(['date', 'keep-alive', 'connection']);

/**
 * Throws unless the floor answers each path exactly as the service does:
 * status, body and headers (the same names with the same values, apart from
 * the date and the connection's own). Each path is asked twice: with a sane
 * X-Request-Id of the caller's, which both must send back as it is, and
 * without one, where both must send one of their own, a UUID.
 */
export async function checkAnswersAlike(
  service: Service,
  floor: Service,
  token: string,
  paths: string[],
): Promise<void> {
  const answer = async (base: string, path: string, requestId?: string) => {
    const res = await fetch(`${base}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
    });
    const headers = [...res.headers.entries()].map(([name, value]) => {
      if (OWN_VALUES.has(name)) return `${name}: …`;
      if (name === 'x-request-id' && !requestId && isUUID(value)) return `${name}: a UUID`;
      return `${name}: ${value}`;
    });
    return { status: res.status, body: await res.text(), headers: headers.sort() };
  };
  for (const path of paths) {
    for (const requestId of ['bench-check-1', undefined]) {
      const ours = JSON.stringify(await answer(service.base, path, requestId), null, 1);
      const bare = JSON.stringify(await answer(floor.base, path, requestId), null, 1);
      if (ours !== bare) {
        throw new Error(`the floor does not answer ${path} as the service does:\n${ours}\n${bare}`);
      }
    }
  }
}
