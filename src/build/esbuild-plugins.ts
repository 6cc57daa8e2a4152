import type { Metafile, Plugin } from 'esbuild';
import { dirname, isAbsolute, resolve, sep } from 'node:path';

/**
 * Declares honnx's own sources free of import-time side effects, so that a function's bundle keeps only the
 * modules it uses: `src/index.ts` re-exports every task, and a classify function must not carry the others.
 */
export function treatSourcesAsPure(sourceFolder: string): Plugin {
  const sourceRoot = resolve(sourceFolder) + sep;
  return {
    name: 'honnx-pure-sources',
    setup(build) {
      build.onResolve({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith('.') && !isAbsolute(args.path)) return undefined;
        const path = isAbsolute(args.path) ? args.path : resolve(args.resolveDir, args.path);
        return path.startsWith(sourceRoot) ? { path, sideEffects: false } : undefined;
      });
    },
  };
}

/** Keeps imports of files that sit beside the bundle (the WASM module, model files) as imports, for wrangler to upload. */
export function keepSiblingFilesExternal(pattern: RegExp): Plugin {
  return {
    name: 'honnx-sibling-files',
    setup(build) {
      build.onResolve({ filter: pattern }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * The project's files (its functions) and honnx's own sources that contributed code to an output, from
 * esbuild's metafile, each relative to its root (`functions/classify.ts`, `src/tasks/classify/classify.ts`).
 * Files that were parsed but tree-shaken away are not listed, nor are other packages.
 */
export function listBundledSources(metafile: Metafile, outputFile: string, roots: { project: string; honnx: string }): string[] {
  const honnx = resolve(roots.honnx) + sep;
  const project = resolve(roots.project) + sep;
  // The generated entry sits in the output's folder; it is no one's source.
  const generated = dirname(resolve(outputFile)) + sep;
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(roots.project, path) === resolve(outputFile))?.[1];
  if (!output) throw new Error(`esbuild wrote no ${outputFile}`);
  const sources = new Set<string>();
  for (const [path, input] of Object.entries(output.inputs)) {
    if (input.bytesInOutput === 0) continue;
    const file = resolve(roots.project, path);
    if (file.startsWith(generated)) continue;
    const root = [honnx, project].find((candidate) => file.startsWith(candidate) && !file.slice(candidate.length).split(sep).includes('node_modules'));
    if (root) sources.add(file.slice(root.length).split(sep).join('/'));
  }
  return [...sources].sort();
}
