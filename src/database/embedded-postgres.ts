import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePrivateFolder, ownerOnly } from '../config/private-files';

/**
 * A PostgreSQL (PGlite) inside this process, served on a private Unix socket so the
 * ordinary `pg` driver and the same migrations work against it. For
 * development, demos and tests; production uses a PostgreSQL server.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly lockFile: string | null,
    /** The private folder of the socket. */
    readonly socketDir: string,
    readonly url: string,
  ) {}

  /**
   * PGlite accepts any user and password, so it is served on a Unix socket in
   * a folder only this process's user may enter (mkdtemp makes it 0700), not
   * on a port any local user could reach. Its files (password hashes, client
   * data, the WAL, pg_hba.conf) are the user's only too: the data folder is
   * 0700 (one that others may use is refused), every folder in it 0700 and
   * every file 0600.
   */
  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const onDisk = !dataDir.startsWith('memory://');
    if (onDisk) {
      // The umask is the process's, and PGlite creates folders and files for as long as it runs
      // (WAL segments, new tables): set before it starts and kept, it makes them all owner-only.
      process.umask(0o077);
      ensurePrivateFolder(dataDir);
    }
    const lockFile = onDisk ? acquireLock(dataDir) : null;
    const socketDir = mkdtempSync(join(tmpdir(), 'bank-pglite-'));
    try {
      const pgdata = lockFile ? join(dataDir, 'pgdata') : dataDir;
      if (onDisk && !existsSync(join(pgdata, 'PG_VERSION'))) await initialiseApart(pgdata);
      const db = await PGlite.create(pgdata, {
        startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
      });
      // PGlite's file system sets some modes itself, with chmod, which no umask masks: 0666 for
      // the files it copies in on a first start, 0644 for those PostgreSQL writes with fopen at
      // start-up (pg_internal.init). Made owner-only once it has started.
      if (onDisk) ownerOnly(dataDir);
      const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432') });
      await server.start();
      const url = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`;
      return new EmbeddedPostgres(db, server, lockFile, socketDir, url);
    } catch (error) {
      if (lockFile) rmSync(lockFile, { force: true });
      rmSync(socketDir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}

/**
 * PostgreSQL's 128 MB of shared buffers are memory of this process here, and
 * a development database fits in a few: 16 MB keeps the embedded database's
 * share of the service's resident memory about 100 MB smaller.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB'];

/**
 * A new data folder is made by PostgreSQL's initdb, which PGlite runs in this
 * process: RSS rises to about 550 MB while it runs, where an existing folder
 * is opened in 140 MB. Done in a short-lived process of its own (under the
 * lock this one holds, with its umask), so the service itself never holds
 * that peak: the first start costs a second or two more and peaks like any
 * other (docs/operations.md, Memory settings).
 */
async function initialiseApart(pgdata: string): Promise<void> {
  const script =
    'const { PGlite } = require(process.argv[1]);' +
    'PGlite.create(process.argv[2]).then((db) => db.close()).catch((e) => {' +
    ' process.stderr.write(String(e && e.message || e)); process.exit(1); });';
  try {
    await promisify(execFile)(
      process.execPath,
      ['-e', script, require.resolve('@electric-sql/pglite'), pgdata],
      {
        env: process.env,
        timeout: 300_000,
      },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `Could not create the embedded database in ${pgdata}: ${stderr || String(error)}`,
    );
  }
}

/** Two processes on one PGlite folder would corrupt it: refuse the second. */
function acquireLock(dataDir: string): string {
  const lockFile = join(dataDir, 'embedded.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return lockFile;
    } catch {
      const pid = Number(readFileSync(lockFile, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${pid}. ` +
            'Stop that process, or set DATABASE_URL to use a PostgreSQL server.',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
