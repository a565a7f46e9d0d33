/** The built service, started as production starts it, and what its processes use. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NODE_ARGS, ROOT } from './settings';

export const ADMIN_PASSWORD = randomBytes(18).toString('base64url');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The production command line, from `npm run start:prod` (VAR=value ... node
 * [flags] dist/main.js): the bench runs the service exactly as deployed.
 */
export function productionCommand(): { env: Record<string, string>; nodeArgs: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts['start:prod'].split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name] = value.join('=');
  }
  if (words.shift() !== 'node' || words.pop() !== 'dist/main.js') {
    throw new Error('start:prod is not "[VAR=value...] node [flags] dist/main.js"');
  }
  return { env, nodeArgs: words };
}

export interface Service {
  child: ChildProcess;
  base: string;
}

/**
 * Starts the built service in production mode on the server database `url`
 * or the embedded one in `dataDir`, and waits until /health answers.
 */
export async function startService(
  database: { url: string } | { dataDir: string },
  extraEnv: Record<string, string> = {},
  extraNodeArgs: string[] = [],
): Promise<Service> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  const production = productionCommand();
  const child = spawn(
    process.execPath,
    [...production.nodeArgs, ...NODE_ARGS, ...extraNodeArgs, 'dist/main.js'],
    {
      cwd: ROOT,
      env: {
        ...env,
        ...production.env,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...('url' in database ? { DATABASE_URL: database.url } : { DATA_DIR: database.dataDir }),
        JWT_SECRET: randomBytes(48).toString('base64url'),
        ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
        DOCS_ENABLED: 'false',
        ...extraEnv,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const service = { child, base: `http://127.0.0.1:${port}` };
  await waitHealthy(service);
  return service;
}

export async function waitHealthy(service: Service, path = '/health'): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (service.child.exitCode !== null) throw new Error('the service exited while starting');
    try {
      if ((await fetch(`${service.base}${path}`)).status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the service did not become healthy');
}

export async function stopService(service: Service | undefined): Promise<void> {
  if (!service || service.child.exitCode !== null) return;
  service.child.kill('SIGTERM');
  await new Promise((r) => service.child.once('exit', r));
}

/** The process and its descendants (the workers of WEB_CONCURRENCY). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    // exited
  }
  return [pid, ...children.flatMap(processTree)];
}

/** User + system CPU time of the service's processes so far, in ms (from /proc, 10 ms ticks). */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1000) / 100;
}

/** RSS now and at its peak, summed over the service's processes (each peak is its own). */
export function rssMb(pid: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      rss += kb('VmRSS');
      peak += kb('VmHWM');
    } catch {
      // exited
    }
  }
  return { rss: Math.round(rss / 1024), peak: Math.round(peak / 1024) };
}
