/** The benchmarks' tables, and their results as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Row } from './load';
import { ROOT } from './settings';

/** A Markdown table of `cells`, with `header`. */
export function table(header: string[], cells: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((l) => l[i].length)));
  const fmt = (line: string[]) => `| ${line.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(fmt),
  ].join('\n');
}

/** The throughput rows as `npm run bench` prints them. */
export function throughputTable(rows: Row[]): string {
  return table(
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'cpu ms/req',
      'reference',
      'ref tps',
      'ratio',
      'target',
    ],
    rows.map((r) => [
      r.scenario,
      String(r.rps),
      String(r.p50),
      String(r.p99),
      String(r.errors),
      r.cpuMsPerRequest !== undefined ? r.cpuMsPerRequest.toFixed(2) : '',
      r.reference ?? '',
      r.referenceTps !== undefined ? String(r.referenceTps) : '',
      r.ratio !== undefined ? r.ratio.toFixed(2) : '',
      r.targetText ??
        (r.target !== undefined
          ? r.scenario.includes('during')
            ? `<= ${r.target}`
            : `>= ${r.target}`
          : ''),
    ]),
  );
}

/** Writes `data`, with the machine it ran on, to bench/results/<name>-<time>.json. */
export function writeResults(name: string, data: object): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine, ...data }, null, 2),
  );
  return file;
}
