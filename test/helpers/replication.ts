import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, until } from './service';

/**
 * A primary and a synchronous standby (PostgreSQL 15, streaming replication),
 * made in a temporary folder, and HAProxy in front of them sending every
 * connection to whichever server answers as the primary. What a failover
 * test needs, from Debian's packages; nothing of it outlives stop().
 */

const BIN = '/usr/lib/postgresql/15/bin';

export function replicationAvailable(): boolean {
  try {
    execFileSync(join(BIN, 'initdb'), ['--version'], { stdio: 'ignore' });
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs a PostgreSQL program as the postgres user (they refuse to run as root). */
function asPostgres(program: string, args: string[]): void {
  const root = userInfo().uid === 0;
  execFileSync(
    root ? 'runuser' : join(BIN, program),
    root ? ['-u', 'postgres', '--', join(BIN, program), ...args] : args,
    {
      stdio: 'pipe',
    },
  );
}

export class ReplicatedDatabase {
  private haproxy?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly primaryPort: number,
    readonly standbyPort: number,
    readonly proxyPort: number,
  ) {}

  /** The URL of database `name` through HAProxy: the primary, whichever server it is. */
  url(name: string): string {
    return `postgresql://postgres@127.0.0.1:${this.proxyPort}/${name}`;
  }

  /** The URL of database `name` on one server directly. */
  directUrl(port: number, name: string): string {
    return `postgresql://postgres@127.0.0.1:${port}/${name}`;
  }

  static async start(): Promise<ReplicatedDatabase> {
    const dir = mkdtempSync('/tmp/bank-failover-');
    chmodSync(dir, 0o755);
    if (userInfo().uid === 0) {
      const pg = execFileSync('id', ['-u', 'postgres']).toString().trim();
      chownSync(dir, Number(pg), Number(pg));
    }
    const db = new ReplicatedDatabase(dir, await freePort(), await freePort(), await freePort());
    const primary = join(dir, 'primary');
    const standby = join(dir, 'standby');
    asPostgres('initdb', ['-D', primary, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    appendFileSync(
      join(primary, 'postgresql.conf'),
      [
        `port = ${db.primaryPort}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        `wal_level = replica`,
        `max_wal_senders = 5`,
        `synchronous_commit = on`,
        `synchronous_standby_names = 'standby1'`,
        `shared_buffers = 32MB`,
        '',
      ].join('\n'),
    );
    asPostgres('pg_ctl', ['-D', primary, '-l', join(dir, 'primary.log'), '-w', 'start']);
    asPostgres('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(db.primaryPort),
      '-U',
      'postgres',
      '-D',
      standby,
      '-R',
      '-X',
      'stream',
    ]);
    appendFileSync(
      join(standby, 'postgresql.auto.conf'),
      `primary_conninfo = 'host=127.0.0.1 port=${db.primaryPort} user=postgres application_name=standby1'\nport = ${db.standbyPort}\n`,
    );
    asPostgres('pg_ctl', ['-D', standby, '-l', join(dir, 'standby.log'), '-w', 'start']);
    await until('the standby in sync', async () => {
      const rows = await query(
        db.directUrl(db.primaryPort, 'postgres'),
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'`,
      );
      return rows[0]?.sync_state === 'sync' || undefined;
    });
    db.startProxy();
    await until('HAProxy on the primary', async () => {
      try {
        const rows = await query(db.url('postgres'), 'SELECT inet_server_port() AS port');
        return Number(rows[0].port) === db.primaryPort || undefined;
      } catch {
        return undefined;
      }
    });
    return db;
  }

  /** HAProxy asks each server every 500 ms whether it is the primary (external check with psql). */
  private startProxy(): void {
    const check = join(this.dir, 'is-primary');
    writeFileSync(
      check,
      `#!/bin/sh\n# $3 and $4: the server's address and port\n` +
        `[ "$(psql -h "$3" -p "$4" -U postgres -d postgres -Atqc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]\n`,
    );
    chmodSync(check, 0o755);
    const config = join(this.dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  external-check',
        '  insecure-fork-wanted',
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        // A check is a psql process: on a busy machine it may take well over the interval.
        '  timeout check 10s',
        '  timeout client 1h',
        '  timeout server 1h',
        'listen postgres',
        `  bind 127.0.0.1:${this.proxyPort}`,
        // The first server that passes its check gets every connection: never the standby.
        '  balance first',
        '  option external-check',
        `  external-check command ${check}`,
        '  external-check path /usr/bin:/bin',
        '  default-server inter 500ms fall 1 rise 1 on-marked-down shutdown-sessions',
        `  server a 127.0.0.1:${this.primaryPort} check`,
        `  server b 127.0.0.1:${this.standbyPort} check`,
        '',
      ].join('\n'),
    );
    this.haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: 'ignore' });
  }

  /** Kills the primary's postmaster (SIGKILL), as a crashed machine would leave it. */
  killPrimary(): void {
    const pid = Number(
      readFileSync(join(this.dir, 'primary', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    process.kill(pid, 'SIGKILL');
  }

  /**
   * Promotes the standby to primary (pg_ctl promote). It has no standby of
   * its own yet, so it is told to commit without waiting for one, as a
   * failover manager (pg_auto_failover) does until a new standby joins.
   */
  async promoteStandby(): Promise<void> {
    asPostgres('pg_ctl', ['-D', join(this.dir, 'standby'), '-w', 'promote']);
    const url = this.directUrl(this.standbyPort, 'postgres');
    await query(url, `ALTER SYSTEM SET synchronous_standby_names = ''`);
    await query(url, 'SELECT pg_reload_conf()');
  }

  async stop(): Promise<void> {
    this.haproxy?.kill('SIGKILL');
    for (const server of ['primary', 'standby']) {
      try {
        asPostgres('pg_ctl', ['-D', join(this.dir, server), '-m', 'immediate', 'stop']);
      } catch {
        // already down
      }
    }
    // A killed postmaster leaves its backends to exit on their own.
    try {
      execFileSync('pkill', ['-9', '-f', `${this.dir}/`]);
    } catch {
      // none left
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function query(url: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query(text)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}
