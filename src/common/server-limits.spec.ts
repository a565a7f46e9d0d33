import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/env';
import { connectionCap, openFilesLimit } from './server-limits';

const config = (env: Record<string, string> = {}) =>
  new AppConfig(validateEnv({ DATA_DIR: 'memory://', ...env }));

describe('connection cap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const limits = (soft: string) => {
    const file = join(dir, `limits-${soft}`);
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\n' +
        `Max open files            ${soft}                 4096                 files\n`,
    );
    return file;
  };

  it('reads the soft limit on open files', () => {
    expect(openFilesLimit(limits('256'))).toBe(256);
    expect(openFilesLimit(limits('unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFilesLimit(join(dir, 'missing'))).toBeNull();
  });

  it('is MAX_CONNECTIONS when set', () => {
    expect(connectionCap(config({ MAX_CONNECTIONS: '50' }), 256)).toBe(50);
  });

  it('otherwise leaves the pool and the process their descriptors', () => {
    // 256 files: 64 kept for the process, 6 for the default pool.
    expect(connectionCap(config(), 256)).toBe(186);
    expect(connectionCap(config({ DATABASE_POOL_SIZE: '20' }), 256)).toBe(172);
    expect(connectionCap(config(), 40)).toBe(16);
    expect(connectionCap(config(), null)).toBe(1024);
  });
});
