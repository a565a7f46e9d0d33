import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Makes `dir` a folder only this process's user may use: created with mode
 * 0700 when missing; refused, as PostgreSQL refuses such a data directory,
 * when it belongs to another user or its group or others have any
 * permission on it. It is checked after it is made, too: a folder someone
 * else made in the meantime is judged like any other.
 */
export function ensurePrivateFolder(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = lstatSync(dir);
  const quoted = `'${dir.replace(/'/g, `'\\''`)}'`;
  if (!stat.isDirectory()) throw new Error(`The data folder ${dir} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new Error(
      `The data folder ${dir} belongs to user ${stat.uid}, not to this process's user (${uid}): ` +
        `only the service's user may own it (chown ${uid} ${quoted})`,
    );
  }
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `The data folder ${dir} has mode ${mode.toString(8).padStart(4, '0')}: its group or ` +
        'others may use it, and it holds the database. Only its owner may: ' +
        `chmod 700 ${quoted}`,
    );
  }
}

/** Sets every folder under `dir` to 0700 and every file to 0600 (links are left alone). */
export function ownerOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
}

/**
 * Writes `text` to a new file only this process's user may read (0600), in
 * a folder made with mode 0700 if missing. Never over an existing file (nor
 * through a link someone put in its place): EEXIST instead.
 */
export function writeOwnerOnlyFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
}
