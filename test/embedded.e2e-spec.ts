/**
 * The embedded database accepts any user and password (PGlite has no
 * authentication), so no one but the service's own user may reach it: it is
 * served on a Unix socket in a folder only that user may enter, never on a
 * TCP port.
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { TestApp, bearer } from './helpers/app';
import { onServer } from './helpers/databases';

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
