/** PostgreSQL's own pgbench, the reference each throughput scenario is compared with. */
import { execFileSync } from 'node:child_process';
import { CONNECTIONS, DURATION, urlFor } from './settings';

/** Creates pgbench's tables (scale 10) in `db`. */
export function pgbenchInit(db: string): void {
  execFileSync('pgbench', ['-i', '-s', '10', '-q', urlFor(db)], { stdio: 'ignore' });
}

/** Runs pgbench with `args` (-S, -N, or none for tpcb-like) on `db`; answers its tps. */
export function pgbench(db: string, args: string[]): number {
  const out = execFileSync(
    'pgbench',
    [...args, '-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), '-n', urlFor(db)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const match =
    /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(
      out,
    );
  if (!match) throw new Error(`pgbench output not understood:\n${out}`);
  return Number(match[1]);
}
