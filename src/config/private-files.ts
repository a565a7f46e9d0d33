import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes `dir` a folder only this process's user may use: created with mode
 * 0700 when missing; refused, as PostgreSQL refuses such a data directory,
 * when it exists and its group or others have any permission on it.
 */
export function ensurePrivateFolder(dir: string): void {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  if ((mode & 0o077) !== 0) {
    const quoted = `'${dir.replace(/'/g, `'\\''`)}'`;
    throw new Error(
      `The data folder ${dir} has mode ${mode.toString(8).padStart(4, '0')}: its group or ` +
        'others may use it, and it holds the database. Only its owner may: ' +
        `chmod 700 ${quoted}`,
    );
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
