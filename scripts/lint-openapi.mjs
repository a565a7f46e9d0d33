#!/usr/bin/env node
// Lints an OpenAPI document with the rules of redocly.yaml (Redocly's
// recommended set, as `redocly lint` applies it), from a file or from
// standard input, and prints each problem.
//   node scripts/lint-openapi.mjs openapi.json
//   node scripts/lint-openapi.mjs --json < openapi.json   (the problems as JSON)
// Exits with 1 when there is any error or warning.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintFromString, loadConfig } from '@redocly/openapi-core';

const args = process.argv.slice(2);
const json = args.includes('--json');
const file = args.find((a) => !a.startsWith('--'));
const source = readFileSync(file ?? 0, 'utf8');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = await loadConfig({ configPath: join(root, 'redocly.yaml') });
const problems = await lintFromString({ source, absoluteRef: file ?? 'openapi.json', config });
const found = problems.filter((p) => p.severity === 'error' || p.severity === 'warn');
if (json) {
  console.log(
    JSON.stringify(
      found.map((p) => ({
        rule: p.ruleId,
        severity: p.severity,
        message: p.message,
        where: p.location.map((l) => l.pointer).join(' '),
      })),
    ),
  );
} else {
  for (const p of found) {
    console.log(
      `${p.severity}\t${p.ruleId}\t${p.location.map((l) => l.pointer).join(' ')}\t${p.message}`,
    );
  }
  console.log(`${found.length} problems`);
}
process.exit(found.length > 0 ? 1 : 0);
