/** The floor server (bench/floor/server.ts), started with the service's node flags. */
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
const OWN_VALUES = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

/**
 * Throws unless the floor answers each path exactly as the service does:
 * status, body and headers (the same names with the same values, apart from
 * the date, the request id and the connection's own), so the comparison
 * measures the framework and not a difference in the work.
 */
export async function checkAnswersAlike(
  service: Service,
  floor: Service,
  token: string,
  paths: string[],
): Promise<void> {
  const answer = async (base: string, path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const headers = [...res.headers.entries()].map(([name, value]) =>
      OWN_VALUES.has(name) ? `${name}: …` : `${name}: ${value}`,
    );
    return { status: res.status, body: await res.text(), headers: headers.sort() };
  };
  for (const path of paths) {
    const ours = JSON.stringify(await answer(service.base, path), null, 1);
    const bare = JSON.stringify(await answer(floor.base, path), null, 1);
    if (ours !== bare) {
      throw new Error(`the floor does not answer ${path} as the service does:\n${ours}\n${bare}`);
    }
  }
}
