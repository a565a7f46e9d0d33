/** The floor server (bench/floor/server.ts), started with the service's node flags. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, productionCommand, Service, waitHealthy } from './service';
import { NODE_ARGS, ROOT } from './settings';

export async function startFloor(databaseUrl: string, jwtSecret: string): Promise<Service> {
  const port = await freePort();
  const production = productionCommand();
  const child = spawn(
    process.execPath,
    [
      ...production.nodeArgs,
      ...NODE_ARGS,
      '-r',
      join(ROOT, 'node_modules', 'ts-node', 'register', 'transpile-only'),
      join(ROOT, 'bench', 'floor', 'server.ts'),
    ],
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
