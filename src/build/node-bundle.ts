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
    keepNames: true,
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
    `import { runWorkerThread } from ${JSON.stringify(honnxSourcePath('serving/worker-thread.ts'))};`,
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
 * `honnx serve`'s worker threads: one bundle per function, written to `folder` under a name that is the hash of
 * its contents, so servers started side by side share files and never write over one another's. Resolves to each
 * function's bundle path. Bundling all of them takes one esbuild run (a few hundred milliseconds); esbuild's
 * service process is stopped afterwards rather than left running beside the server (~45 MB).
 */
export async function bundleWorkerEntries(projectRoot: string, functions: readonly { name: string; file: string }[], folder: string): Promise<Map<string, string>> {
  const options = nodeBundleOptions(projectRoot);
  const virtualEntries: Plugin = {
    name: 'honnx-worker-entries',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^honnx-worker:/ }, (args) => ({ path: args.path.slice('honnx-worker:'.length), namespace: 'honnx-worker' }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'honnx-worker' }, (args) => ({
        contents: writeWorkerEntry(functions.find((fn) => fn.name === args.path)!.file),
        resolveDir: projectRoot,
        loader: 'js',
      }));
    },
  };
  const result = await build({
    ...options,
    entryPoints: Object.fromEntries(functions.map((fn) => [fn.name, `honnx-worker:${fn.name}`])),
    outdir: folder,
    outExtension: { '.js': '.mjs' },
    write: false,
    plugins: [virtualEntries, importRuntimeFromHonnx(), ...(options.plugins ?? [])],
  }).finally(() => stop());
  await mkdir(folder, { recursive: true });
  const bundles = new Map<string, string>();
  for (const fn of functions) {
    const output = result.outputFiles.find((file) => file.path === join(folder, `${fn.name}.mjs`));
    if (!output) throw new Error(`esbuild wrote no worker bundle for function ${fn.name}`);
    const path = join(folder, `${fn.name}-${createHash('sha256').update(output.contents).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(path)) {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, output.contents);
      await rename(temporary, path);
    }
    bundles.set(fn.name, path);
  }
  return bundles;
}
