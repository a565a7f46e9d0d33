/**
 * The embedded database accepts any user and password (PGlite has no
 * authentication), so no one but the service's own user may reach it: it is
 * served on a Unix socket in a folder only that user may enter, never on a
 * TCP port. Its files hold password hashes and client data: no one else may
 * read them either.
 */
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { onServer } from './helpers/databases';
import { freePort, kill, listening, startService, until } from './helpers/service';

(onServer ? describe.skip : describe)('the embedded database', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('listens on an owner-only Unix socket, not on a port', async () => {
    const url = new URL((t.app.get(DataSource).options as { url: string }).url);
    expect(url.port).toBe('');
    const folder = url.searchParams.get('host')!;
    expect(folder.startsWith('/')).toBe(true);
    const stat = statSync(folder);
    expect(stat.isDirectory()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).toBe(userInfo().uid);
    expect(statSync(join(folder, '.s.PGSQL.5432')).isSocket()).toBe(true);
    // And the service works through it.
    const me = await t.http.get('/api/v1/auth/me').set(bearer(await t.adminToken()));
    expect(me.status).toBe(200);
  });
});

(onServer ? describe.skip : describe)("the embedded database's files", () => {
  const work = mkdtempSync(join(tmpdir(), 'bank-embedded-e2e-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The mode of `dir` and of every folder and file under it, by path. */
  const modes = (dir: string) =>
    Object.fromEntries(
      [
        dir,
        ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => join(dir, p)),
      ].map((path) => {
        const stat = statSync(path);
        return [
          path,
          `${stat.isDirectory() ? 'folder' : 'file'} ${(stat.mode & 0o777).toString(8)}`,
        ];
      }),
    );
  const everyOne = (dir: string) => new Set(Object.values(modes(dir)));

  it('a fresh DATA_DIR is 0700, every folder in it 0700 and every file 0600, running and stopped', async () => {
    const data = join(work, 'fresh');
    const port = await freePort();
    // Without JWT_SECRET the development secret is written there too.
    const service = startService(work, {
      DATA_DIR: data,
      PORT: String(port),
      JWT_SECRET: undefined,
    });
    try {
      await until('listening', () => listening(service).length === 1);
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'service-admin-password' }),
      });
      expect(login.status).toBe(200);
      expect(Object.keys(modes(data)).length).toBeGreaterThan(900);
      expect(modes(data)[join(data, 'jwt-secret')]).toBe('file 600');
      expect(everyOne(data)).toEqual(new Set(['folder 700', 'file 600']));
      service.child.kill('SIGTERM');
      await service.exited;
      expect(everyOne(data)).toEqual(new Set(['folder 700', 'file 600']));
    } finally {
      await kill(service);
    }
  }, 120_000);

  it.each(['0755', '0750', '0701'])(
    'refuses to start on a DATA_DIR of mode %s, saying how to fix it, and writes nothing there',
    async (octal) => {
      const mode = parseInt(octal, 8);
      const data = join(work, `open-${octal}`);
      mkdirSync(data);
      chmodSync(data, mode);
      const service = startService(work, {
        DATA_DIR: data,
        PORT: String(await freePort()),
        JWT_SECRET: undefined,
      });
      try {
        const outcome = await until('the service to exit or listen', () =>
          service.child.exitCode !== null ? 'exited' : listening(service).length > 0 && 'listened',
        );
        expect(outcome).toBe('exited');
        expect(service.child.exitCode).toBe(1);
        // Its output is whole once stderr has ended, which may come after the exit.
        if (!service.child.stderr!.readableEnded) await once(service.child.stderr!, 'end');
        expect(service.stderr.join('')).toContain(
          `The data folder ${data} has mode ${octal}: its group or others may use it, ` +
            `and it holds the database. Only its owner may: chmod 700 '${data}'`,
        );
        expect(readdirSync(data)).toEqual([]);
        expect(statSync(data).mode & 0o777).toBe(mode);
      } finally {
        await kill(service);
      }
    },
    60_000,
  );
});
