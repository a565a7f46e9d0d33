// Summarises src/'s imports by folder (madge's graph) and fails when two
// folders import each other, directly or through a longer loop of folders.
// `npm run lint:folders` prints one line per folder: what it imports.
import madge from 'madge';

const graph = (
  await madge('src', {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.json',
    excludeRegExp: [/\.spec\.ts$/, /(^|\/)metadata\.ts$/],
  })
).obj();

const folderOf = (file) => (file.includes('/') ? file.split('/')[0] : '.');
const edges = new Map();
for (const [file, imports] of Object.entries(graph)) {
  const from = folderOf(file);
  if (from === '.') continue;
  for (const target of imports) {
    const to = folderOf(target);
    if (to === from || to === '.') continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const byTarget = edges.get(from);
    if (!byTarget.has(to)) byTarget.set(to, []);
    byTarget.get(to).push(`${file} -> ${target}`);
  }
}

const folders = [
  ...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]),
].sort();
for (const f of folders) {
  const targets = [...(edges.get(f)?.keys() ?? [])].sort();
  console.log(`${f.padEnd(12)} -> ${targets.join(', ') || '(nothing)'}`);
}

// Strongly connected components of the folder graph (Tarjan): any with two or more folders is a loop.
let index = 0;
const stack = [];
const state = new Map();
const loops = [];
function visit(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!state.has(w)) {
      visit(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) loops.push(component.sort());
  }
}
for (const f of folders) if (!state.has(f)) visit(f);

if (loops.length > 0) {
  console.error('\nFolders that depend on each other:');
  for (const loop of loops) {
    console.error(`  ${loop.join(' <-> ')}`);
    for (const a of loop)
      for (const b of loop)
        for (const line of edges.get(a)?.get(b) ?? []) console.error(`    ${line}`);
  }
  process.exit(1);
}
console.log('\nno two folders of src depend on each other');
