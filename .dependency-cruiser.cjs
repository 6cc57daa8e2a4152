// The layer check (npm run check:layers, run by .ci/run): no import circle, and no import that runs up the layers.
// The layers are read from the code block under "## Layers" in docs/architecture.md (each line that starts with
// `src/<folder>/`, bottom first), so the map a newcomer reads is the one CI enforces.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

function readLayers() {
  const text = readFileSync(join(__dirname, 'docs', 'architecture.md'), 'utf8');
  const section = text.split(/^## Layers$/m)[1];
  if (!section) throw new Error('docs/architecture.md has no "## Layers" section');
  const block = section.split('```')[1];
  const layers = [...block.matchAll(/^src\/([a-z/-]+)\/\s/gm)].map((match) => match[1]);
  if (layers.length < 5) throw new Error(`docs/architecture.md lists too few layers: ${layers.join(', ')}`);
  const twice = layers.filter((layer, index) => layers.indexOf(layer) !== index);
  if (twice.length > 0) throw new Error(`docs/architecture.md's Layers block names ${twice.join(', ')} twice: one line per layer, in order`);
  return layers;
}

const layers = readLayers();
const folder = (layer) => `^src/${layer}/`;
const anyOf = (list) => `^src/(${list.join('|')})/`;

const upward = layers.slice(0, -1).map((layer, index) => ({
  name: `up-from-${layer.replace(/\//g, '-')}`,
  comment: `src/${layer}/ may import only from itself and the layers below it (docs/architecture.md, "Layers")`,
  severity: 'error',
  from: { path: folder(layer) },
  to: { path: anyOf(layers.slice(index + 1)) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle, type-only imports included: a type import is still a dependency of the design',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'runtimes-apart',
      comment: 'runtime/node/ and runtime/workers/ never import each other',
      severity: 'error',
      from: { path: '^src/runtime/(node|workers)/' },
      to: { path: '^src/runtime/(node|workers)/', pathNot: '^src/runtime/$1/' },
    },
    {
      name: 'entries-on-top',
      comment: 'the entries (src/index.ts, src/node.ts, src/internal.ts) are imported by nobody inside src/',
      severity: 'error',
      from: { path: '^src/.+/' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    // Type-only imports count: they are dependencies of the design too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
