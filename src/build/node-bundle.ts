import { build, stop, type BuildOptions, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { treatSourcesAsPure } from './esbuild-plugins.ts';
import { honnxNodePaths, honnxSourceFolder, honnxSourcePath, resolveFromHonnx } from './honnx-paths.ts';

/**
 * esbuild's settings for a Node bundle of honnx code (a node artifact's entry, a worker thread's entry): every
 * JavaScript dependency bundled except onnxruntime-node (native binaries).
 */
export function nodeBundleOptions(projectRoot: string, { minify = true }: { minify?: boolean } = {}): BuildOptions {
  return {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['onnxruntime-node'],
    // Bundled CommonJS dependencies call require() for Node built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as honnxCreateRequire } from 'node:module'; const require = honnxCreateRequire(import.meta.url);" },
    minifySyntax: minify,
    minifyWhitespace: minify,
    // No keepNames: it wraps every function created at run time (closures on the request path included) in a call
    // that defines its `name`, ~1% of a small model's request; honnx's errors set their names themselves.
    legalComments: 'eof',
    nodePaths: honnxNodePaths,
    absWorkingDir: projectRoot,
    logLevel: 'silent',
    plugins: [treatSourcesAsPure(honnxSourceFolder)],
  };
}

/** The entry of a worker thread that serves one function, with the function built in (no TypeScript loader needed). */
export function writeWorkerEntry(functionFile: string): string {
  return [
    `import fn from ${JSON.stringify(functionFile)};`,
    `import { runWorkerThread } from ${JSON.stringify(honnxSourcePath('runtime/node/worker-thread.ts'))};`,
    `runWorkerThread(async () => fn);`,
    '',
  ].join('\n');
}

/** Imports of onnxruntime-node by absolute path, so that a bundle written outside honnx's folder still finds it. */
function importRuntimeFromHonnx(): Plugin {
  return {
    name: 'honnx-runtime-from-honnx',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^onnxruntime-node$/ }, () => ({ path: resolveFromHonnx('onnxruntime-node'), external: true }));
    },
  };
}

/**
 * Bundles generated entries (name → module source) for Node, each written to `folder` under a name that is the hash
 * of its contents, so that servers started side by side share files and never write over one another's. Resolves to
 * each entry's bundle path. All of them take one esbuild run (a few hundred milliseconds); esbuild's service process
 * is stopped afterwards rather than left running beside the server (~45 MB).
 */
export async function bundleEntries(projectRoot: string, entries: ReadonlyMap<string, string>, folder: string): Promise<Map<string, string>> {
  // HONNX_PROFILE_UNMINIFIED=1 keeps esbuild's module comments, so a CPU profile can be read per source module.
  const options = nodeBundleOptions(projectRoot, { minify: process.env.HONNX_PROFILE_UNMINIFIED !== '1' });
  const virtualEntries: Plugin = {
    name: 'honnx-entries',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^honnx-entry:/ }, (args) => ({ path: args.path.slice('honnx-entry:'.length), namespace: 'honnx-entry' }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'honnx-entry' }, (args) => ({ contents: entries.get(args.path)!, resolveDir: projectRoot, loader: 'js' }));
    },
  };
  const result = await build({
    ...options,
    entryPoints: Object.fromEntries([...entries.keys()].map((name) => [name, `honnx-entry:${name}`])),
    outdir: folder,
    outExtension: { '.js': '.mjs' },
    write: false,
    plugins: [virtualEntries, importRuntimeFromHonnx(), ...(options.plugins ?? [])],
  }).finally(() => stop());
  await mkdir(folder, { recursive: true });
  const bundles = new Map<string, string>();
  for (const name of entries.keys()) {
    const output = result.outputFiles.find((file) => file.path === join(folder, `${name}.mjs`));
    if (!output) throw new Error(`esbuild wrote no bundle for ${name}`);
    const path = join(folder, `${name}-${createHash('sha256').update(output.contents).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(path)) {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, output.contents);
      await rename(temporary, path);
    }
    bundles.set(name, path);
  }
  return bundles;
}

/** Worker threads' entries, one bundle per function: resolves to each function's bundle path, by function name. */
export async function bundleWorkerEntries(projectRoot: string, functions: readonly { name: string; file: string }[], folder: string): Promise<Map<string, string>> {
  const entries = new Map(functions.map((fn) => [`worker-${fn.name}`, writeWorkerEntry(fn.file)]));
  const bundles = await bundleEntries(projectRoot, entries, folder);
  return new Map(functions.map((fn) => [fn.name, bundles.get(`worker-${fn.name}`)!]));
}

/**
 * `honnx serve` without a TypeScript loader in the server: one bundle of the server with the functions built in
 * (its module exports `run(args, workerBundles)`), and one per function for its worker threads.
 */
export async function bundleServer(projectRoot: string, functions: readonly { name: string; file: string }[], folder: string): Promise<{ server: string; workers: Record<string, string> }> {
  const server = [
    `import { serveBundled } from ${JSON.stringify(honnxSourcePath('cli/serve-bundled.ts'))};`,
    ...functions.map((fn, index) => `import function${index} from ${JSON.stringify(fn.file)};`),
    `const functions = [${functions.map((fn, index) => `{ name: ${JSON.stringify(fn.name)}, fn: function${index}, file: ${JSON.stringify(fn.file)} }`).join(', ')}];`,
    `export const run = (args, workerBundles) => serveBundled(args, functions, new Map(Object.entries(workerBundles)));`,
    '',
  ].join('\n');
  const entries = new Map([['server', server], ...functions.map((fn) => [`worker-${fn.name}`, writeWorkerEntry(fn.file)] as const)]);
  const bundles = await bundleEntries(projectRoot, entries, folder);
  return { server: bundles.get('server')!, workers: Object.fromEntries(functions.map((fn) => [fn.name, bundles.get(`worker-${fn.name}`)!])) };
}
