import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { TestApp, TEST_JWT_SECRET, bearer } from './helpers/app';
import { cloneTemplate, databaseEnv, dropDatabase, onServer } from './helpers/databases';
import { UUID } from './helpers/expect';

/**
 * The user:create CLI as an operator runs it: a child process (ts-node, as
 * `npm run user:create` does), on a server database cloned from the template
 * or on an embedded database in a fresh folder.
 */

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'src', 'cli', 'create-user.ts');
const TIMEOUT = 60_000;
const PASSWORD = 'a-cli-password-for-tests';
const UUID_ZERO = '00000000-0000-4000-8000-000000000000';
const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A folder outside the repository, so a developer's .env does not leak into the CLI. */
const work = mkdtempSync(join(tmpdir(), 'bank-cli-e2e-'));

function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    // The tests check behaviour; `npm run typecheck` checks the types.
    TS_NODE_TRANSPILE_ONLY: 'true',
    TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
  };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'ADMIN_PASSWORD', 'NEW_USER_PASSWORD']) {
    delete childEnv[name];
  }
  Object.assign(childEnv, env);
  const argv = ['-r', join(ROOT, 'node_modules', 'ts-node', 'register'), CLI, ...args];
  return new Promise((done) => {
    execFile(
      process.execPath,
      argv,
      { cwd: work, env: childEnv, timeout: TIMEOUT - 5_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** The one line of JSON the CLI prints on success. */
function summary(result: CliResult): Record<string, unknown> {
  const lines = result.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

function expectFailure(result: CliResult, message: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(STACK_LINE);
}

/** The first admin's password, when this run bootstrapped an empty database. */
function bootstrapAdminPassword(result: CliResult): string | undefined {
  if (!/the first user "admin" was created too/.test(result.stderr)) return undefined;
  return /Generated admin password \(shown only once\): log in as "admin" with (\S+)/.exec(
    result.stderr,
  )?.[1];
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('user:create CLI: refused before any database is opened (exit 1)', () => {
  const untouched = join(work, 'untouched');

  it(
    'refuses a too-short password',
    async () => {
      const result = await runCli(
        ['--username', 'short_pw', '--role', 'teller', '--password', 'too-short'],
        { DATA_DIR: untouched },
      );
      expectFailure(result, /--password: password must be longer than or equal to 12 characters/);
      expect(existsSync(untouched)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'refuses a customer without --client-id',
    async () => {
      const result = await runCli(['--username', 'no_client', '--role', 'customer'], {
        DATA_DIR: untouched,
        NEW_USER_PASSWORD: PASSWORD,
      });
      expectFailure(result, /--client-id: a customer needs a clientId/);
      expect(existsSync(untouched)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'refuses a bad username and an unknown role, naming each',
    async () => {
      const result = await runCli(
        ['--username', 'has space', '--role', 'boss', '--password', PASSWORD],
        { DATA_DIR: untouched },
      );
      expectFailure(result, /--username: username must be .*\n\s+- --role: role must be one of/);
      expect(existsSync(untouched)).toBe(false);
    },
    TIMEOUT,
  );

  // On the embedded database the real case (an app holding the folder) is tested below.
  (onServer ? it : it.skip)(
    'says clearly that an embedded database folder is in use by another process',
    async () => {
      const locked = join(work, 'locked');
      // As the service leaves it: private (0700), with the pid of the process that holds it.
      mkdirSync(locked, { mode: 0o700 });
      writeFileSync(join(locked, 'embedded.pid'), String(process.pid));
      const result = await runCli(['--username', 'locked', '--role', 'teller'], {
        DATA_DIR: locked,
        NEW_USER_PASSWORD: PASSWORD,
      });
      expectFailure(
        result,
        new RegExp(`embedded database in .*locked is in use by process ${process.pid}`),
      );
    },
    TIMEOUT,
  );
});

(onServer ? describe : describe.skip)('user:create CLI on a PostgreSQL server', () => {
  let database: string;
  let t: TestApp | undefined;
  let env: Record<string, string>;
  /** The first run, on a database with no user: the first test checks it, the others build on it. */
  let first: CliResult;

  beforeAll(async () => {
    database = await cloneTemplate();
    env = databaseEnv(database);
    first = await runCli(
      ['--username', 'cli_teller', '--role', 'teller', '--password', PASSWORD],
      env,
    );
    t = await TestApp.start({}, { database });
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
    if (database) await dropDatabase(database);
  });

  it(
    'creates a teller (exit 0) who then logs in through the API; the first admin is shown',
    async () => {
      expect(first.code).toBe(0);
      const user = summary(first);
      expect(user).toEqual({
        id: expect.stringMatching(UUID),
        username: 'cli_teller',
        role: 'teller',
        clientId: null,
      });
      // The database had no user: the CLI bootstrapped "admin" and showed its password.
      const adminPassword = bootstrapAdminPassword(first);
      expect(adminPassword).toEqual(expect.any(String));

      const tokens = await t!.login('cli_teller', PASSWORD);
      const me = await t!.http.get('/api/v1/auth/me').set(bearer(tokens.accessToken));
      expect(me.status).toBe(200);
      expect(me.body).toEqual(expect.objectContaining({ id: user.id, role: 'teller' }));
      await t!.login('admin', adminPassword!);
    },
    TIMEOUT,
  );

  it(
    'refuses the same username in another case (exit 1)',
    async () => {
      const result = await runCli(
        ['--username', 'CLI_Teller', '--role', 'teller', '--password', PASSWORD],
        env,
      );
      expectFailure(result, /username is taken/);
      expect(bootstrapAdminPassword(result)).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    'creates a customer of an existing client with NEW_USER_PASSWORD; refuses an unknown client',
    async () => {
      const rows: Array<{ id: string }> = await t!.app
        .get(DataSource)
        .query(
          'INSERT INTO clients (national_id, first_name, last_name) VALUES ($1, $2, $3) RETURNING id',
          ['NID-CLI-1', 'Ada', 'Lovelace'],
        );
      const clientId = rows[0].id;
      const unknown = await runCli(
        ['--username', 'cli_cust', '--role', 'customer', '--client-id', UUID_ZERO],
        { ...env, NEW_USER_PASSWORD: PASSWORD },
      );
      expectFailure(unknown, /--client-id: no client has this id/);

      const result = await runCli(
        ['--username', 'cli_cust', '--role', 'customer', '--client-id', clientId],
        { ...env, NEW_USER_PASSWORD: PASSWORD },
      );
      expect(result.code).toBe(0);
      expect(summary(result)).toEqual(
        expect.objectContaining({ username: 'cli_cust', role: 'customer', clientId }),
      );
      await t!.login('cli_cust', PASSWORD);
    },
    TIMEOUT,
  );

  it(
    'generates a 24-character password when none is given and prints it once',
    async () => {
      const result = await runCli(['--username', 'cli_gen', '--role', 'admin'], {
        ...env,
      });
      expect(result.code).toBe(0);
      expect(summary(result)).toEqual(
        expect.objectContaining({ username: 'cli_gen', role: 'admin' }),
      );
      const generated = /Generated password for "cli_gen" \(shown only once\): (\S+)/.exec(
        result.stderr,
      )?.[1];
      expect(generated).toHaveLength(24);
      expect(result.stdout).not.toContain(generated);
      await t!.login('cli_gen', generated!);
    },
    TIMEOUT,
  );
});

(onServer ? describe.skip : describe)('user:create CLI on the embedded database', () => {
  const dataDir = join(work, 'data');
  /** The first run, on an empty folder: the first test checks it, the second builds on it. */
  let first: CliResult;

  beforeAll(async () => {
    first = await runCli(['--username', 'cli_teller', '--role', 'teller', '--password', PASSWORD], {
      DATA_DIR: dataDir,
    });
  }, TIMEOUT);

  it(
    'creates a teller (exit 0); a second call refuses the same username in another case (exit 1)',
    async () => {
      expect(first.code).toBe(0);
      expect(summary(first)).toEqual({
        id: expect.stringMatching(UUID),
        username: 'cli_teller',
        role: 'teller',
        clientId: null,
      });
      expect(bootstrapAdminPassword(first)).toEqual(expect.any(String));

      const again = await runCli(
        ['--username', 'CLI_TELLER', '--role', 'teller', '--password', PASSWORD],
        { DATA_DIR: dataDir },
      );
      expectFailure(again, /username is taken/);
      expect(bootstrapAdminPassword(again)).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    'the teller logs in through the API on that folder; meanwhile the CLI refuses the folder clearly',
    async () => {
      const t = await TestApp.start({ DATA_DIR: dataDir });
      try {
        const tokens = await t.login('cli_teller', PASSWORD);
        const me = await t.http.get('/api/v1/auth/me').set(bearer(tokens.accessToken));
        expect(me.body).toEqual(expect.objectContaining({ id: summary(first).id, role: 'teller' }));
        await t.login('admin', bootstrapAdminPassword(first)!);

        const busy = await runCli(
          ['--username', 'cli_other', '--role', 'teller', '--password', PASSWORD],
          { DATA_DIR: dataDir },
        );
        expectFailure(busy, new RegExp(`is in use by process ${process.pid}.*DATABASE_URL`));
      } finally {
        await t.close();
      }
    },
    TIMEOUT,
  );
});
