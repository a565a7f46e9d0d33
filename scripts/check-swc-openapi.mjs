// Builds the service with SWC, as `npm start` does, starts it on the embedded database and
// checks that it serves the OpenAPI document that openapi.json holds (the tests hold a tsc
// build to it): an SWC build documents the API only through src/metadata.ts, which must say
// what @nestjs/swagger's plugin says. Exits 1, showing the first differences, when it does not.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const root = resolve('.');
const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
// Into dist, as npm start builds (a later npm run build replaces it with tsc's).
execFileSync(process.execPath, [nest, 'build', '-b', 'swc'], { stdio: 'inherit' });

const port = await new Promise((done) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => done(port));
  });
});
const service = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
  env: {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: '',
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'warn',
    ADMIN_PASSWORD: 'check-swc-admin-password',
    JWT_SECRET: 'check-swc-secret-that-is-long-enough-0123',
    DOCS_ENABLED: 'true',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let served;
try {
  for (let i = 0; i < 300 && served === undefined; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/docs-json`);
      if (res.ok) served = await res.json();
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
} finally {
  service.kill('SIGTERM');
}
if (served === undefined) {
  console.error('the SWC build did not start');
  process.exit(1);
}
const committed = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8'));
if (isDeepStrictEqual(served, committed)) {
  console.log('the SWC build serves openapi.json');
  process.exit(0);
}
const differences = [];
const walk = (a, b, path) => {
  if (differences.length >= 20 || isDeepStrictEqual(a, b)) return;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    differences.push(
      `${path}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`,
    );
    return;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
    walk(a[key], b[key], `${path}/${key}`);
};
walk(served, committed, '');
console.error(
  `the SWC build serves another document than openapi.json:\n${differences.join('\n')}`,
);
process.exit(1);
