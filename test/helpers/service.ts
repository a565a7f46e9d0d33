import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { TEST_JWT_SECRET } from './app';

/**
 * The service as an operator starts it: src/main.ts in a child process
 * (through ts-node, as `npm start` does), its stdout read line by line.
 */

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

export interface Service {
  child: ChildProcess;
  /** stdout, one entry per line: the parsed JSON log line, or `{ msg, plain: true }`. */
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Starts the service in `cwd` with a test environment plus `env`. The
 * variables a developer's shell may hold are cleared first; an entry of `env`
 * set to undefined stays unset.
 */
export function startService(
  cwd: string,
  env: Record<string, string | undefined>,
  nodeArgs: string[] = [],
  args: string[] = [],
): Service {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_PASSWORD: 'service-admin-password',
    HOST: '127.0.0.1',
    DOCS_ENABLED: 'false',
    TS_NODE_TRANSPILE_ONLY: 'true',
    TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
  };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'WEB_CONCURRENCY']) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  const child = spawn(
    process.execPath,
    [...nodeArgs, '-r', join(ROOT, 'node_modules', 'ts-node', 'register'), MAIN, ...args],
    { cwd, env: childEnv },
  );
  const service: Service = {
    child,
    lines: [],
    stderr: [],
    exited: new Promise((done) => child.once('exit', (code) => done(code))),
  };
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) {
      try {
        service.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        service.lines.push({ msg: line, plain: true });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => service.stderr.push(chunk.toString()));
  return service;
}

/**
 * What `npm run start:prod` gives the process besides its code: the
 * environment it sets (MALLOC_ARENA_MAX) and Node's flags (the V8 heap's
 * sizes), read from package.json so a test of the service's memory runs it
 * as production does.
 */
export function productionRuntime(): { env: Record<string, string>; nodeArgs: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts['start:prod'].split(/\s+/);
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, node).map((w) => w.split('=') as [string, string]));
  const nodeArgs = words.slice(node + 1).filter((w) => w.startsWith('--'));
  return { env, nodeArgs };
}

/** Polls `probe` every 100 ms until it gives a value (not undefined or false); 60 s unless told. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  seconds = 60,
): Promise<T> {
  for (let i = 0; i < seconds * 10; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pids of the processes that said they are listening. */
export const listening = (service: Service) =>
  service.lines
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Bank API listening'))
    .map((l) => l.pid as number);

/** Stops the service (SIGKILL when it has not exited yet). */
export async function kill(service: Service): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
}
