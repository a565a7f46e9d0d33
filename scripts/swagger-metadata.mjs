// Writes src/metadata.ts: what @nestjs/swagger's CLI plugin derives from the DTOs and
// controllers (types, optionality, class-validator rules, doc comments), as data the
// application loads at start (SwaggerModule.loadPluginMetadata). tsc builds apply the
// plugin while compiling; SWC builds (npm start) cannot, and take this file instead.
// `node scripts/swagger-metadata.mjs --check` exits 1 when the file is out of date.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PluginMetadataGenerator } from '@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator.js';
import { ReadonlyVisitor } from '@nestjs/swagger/plugin';

const source = resolve('src');
const check = process.argv.includes('--check');
const outputDir = check ? mkdtempSync(join(tmpdir(), 'swagger-metadata-')) : source;

new PluginMetadataGenerator().generate({
  visitors: [
    new ReadonlyVisitor({
      introspectComments: true,
      classValidatorShim: true,
      pathToSource: source,
    }),
  ],
  outputDir,
  watch: false,
  tsconfigPath: 'tsconfig.build.json',
  printDiagnostics: false,
});

if (check) {
  const fresh = readFileSync(join(outputDir, 'metadata.ts'), 'utf8');
  rmSync(outputDir, { recursive: true, force: true });
  if (fresh !== readFileSync(join(source, 'metadata.ts'), 'utf8')) {
    console.error('src/metadata.ts is out of date: run npm run swagger:metadata');
    process.exit(1);
  }
  console.log('src/metadata.ts is up to date');
}
