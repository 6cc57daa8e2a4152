import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { honnxRoot, honnxSourcePath, resolveFromHonnx } from './honnx-paths.ts';
import { listBundledSources } from './esbuild-plugins.ts';
import { nodeBundleOptions, writeWorkerEntry } from './node-bundle.ts';
import type { FunctionSource } from './function-sources.ts';
import { lockFilePath, writeLockFile } from '../models/lock/lock-file.ts';
import { recordModelVersion, type ModelVersion } from '../models/versions/model-versions.ts';
import { MEGABYTE } from './memory-estimate.ts';
import type { ShippedModel } from './model-files-to-ship.ts';

export const NODE_ENTRY = 'index.mjs';
/**
 * Node flags of `npm start` in an artifact (and of `npm start` in a honnx project): a smaller young generation
 * and an old generation grown by half its live size rather than V8's default factor. Under load they cut RSS by
 * ~30 MB at the same CPU per request (bench/MEMORY-RESULTS.md). V8 reads them only at start: they cannot be set
 * from the entry.
 */
export const NODE_MAIN_FLAGS = '--max-semi-space-size=8 --heap-growing-percent=50';
/** The worker threads' entry beside it: the function and honnx's worker code, bundled. */
export const NODE_WORKER_ENTRY = 'worker.mjs';

export interface NodeBuildOptions {
  projectRoot: string;
  outDir: string;
  fn: FunctionSource & { model: ShippedModel };
  /** Copy the model into `models/<name>/` beside the entry, making the folder runnable with no mirror or cache. */
  includeModel?: boolean;
  /** The mirror the build resolved models from; recorded so the artifact finds them on this machine. */
  mirror?: string;
  /**
   * A canary the function declares: its version (from the version store) travels in the artifact's own version
   * store, `models/.versions/`, so that the artifact starts it as `honnx serve` does, beside the active model.
   */
  canary?: { version: ModelVersion; model: ShippedModel };
  minify?: boolean;
}

export interface NodeMemoryEstimate {
  runtimeBytes: number;
  modelBytes: number;
  workingBytes: number;
  totalBytes: number;
}

/**
 * Calibrated on onnxruntime-node 1.30 (CPU, one thread): a Node process with the runtime loaded holds 56 MB,
 * a session 30-40 MB more for 3.5-10.5 MB graphs, and a 64 × 128-token batch through a 4-layer BERT 60 MB more.
 */
export function estimateNodeMemory(model: ShippedModel, ...beside: ShippedModel[]): NodeMemoryEstimate {
  const runtimeBytes = 80 * MEGABYTE;
  // A canary's session lives beside the active one's for as long as it runs.
  const modelBytes = [model, ...beside].reduce((sum, each) => sum + each.totalBytes + 2.5 * each.graphBytes, 0);
  const workingBytes = 64 * MEGABYTE;
  return { runtimeBytes, modelBytes, workingBytes, totalBytes: runtimeBytes + modelBytes + workingBytes };
}

export interface NodeBuildResult {
  outDir: string;
  name: string;
  model: string;
  entryBytes: number;
  entryGzipBytes: number;
  modelBytes: number;
  modelIncluded: boolean;
  /** The canary version the artifact carries and starts, when the function declares one. */
  canaryVersion?: string;
  memory: NodeMemoryEstimate;
  sources: string[];
}

function writeEntry(fn: FunctionSource): string {
  return [
    `import { dirname, join } from 'node:path';`,
    `import { fileURLToPath } from 'node:url';`,
    `import fn from ${JSON.stringify(fn.file)};`,
    `import { serveArtifact } from ${JSON.stringify(honnxSourcePath('build/node-artifact.ts'))};`,
    `const folder = dirname(fileURLToPath(import.meta.url));`,
    `serveArtifact({ name: ${JSON.stringify(fn.name)}, fn, folder, workerBundle: join(folder, ${JSON.stringify(NODE_WORKER_ENTRY)}) }).catch((error) => {`,
    `  console.error(error instanceof Error ? error.message : error);`,
    `  process.exit(1);`,
    `});`,
    '',
  ].join('\n');
}

/**
 * Builds `dist/node/<function>/`: the server's ES module and the worker threads' one, each with every JavaScript
 * dependency bundled except onnxruntime-node (native binaries, named in the folder's package.json), the model
 * manifest, and optionally the model itself.
 */
export async function buildNode(options: NodeBuildOptions): Promise<NodeBuildResult> {
  const { projectRoot, outDir, fn } = options;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const bundleOptions = nodeBundleOptions(projectRoot, { minify: options.minify });
  const result = await build({
    ...bundleOptions,
    stdin: { contents: writeEntry(fn), resolveDir: outDir, sourcefile: 'honnx-node-entry.mjs', loader: 'js' },
    outfile: join(outDir, NODE_ENTRY),
    metafile: true,
  });
  await build({
    ...bundleOptions,
    stdin: { contents: writeWorkerEntry(fn.file), resolveDir: outDir, sourcefile: 'honnx-node-worker.mjs', loader: 'js' },
    outfile: join(outDir, NODE_WORKER_ENTRY),
  });

  const ortVersion = (JSON.parse(await readFile(resolveFromHonnx('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  const packageJson = {
    name: `honnx-${fn.name}`,
    private: true,
    type: 'module',
    description: `honnx function ${fn.name} (${fn.definition.description ?? fn.definition.task.task}), built by honnx build --target node`,
    scripts: { start: `node ${NODE_MAIN_FLAGS} ${NODE_ENTRY}` },
    dependencies: { 'onnxruntime-node': ortVersion },
    // npm 11.19+ skips onnxruntime-node's install script, which downloads CUDA binaries (offline it fails; the CPU
    // runtime ships in the package). An older npm ignores this field: ONNXRUNTIME_NODE_INSTALL=skip npm install.
    allowScripts: { 'onnxruntime-node': false },
  };
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  // The model manifest is a lock file in the artifact's models/: the Node runtime verifies the model it resolves
  // against it (sizes and sha256) before creating a session, so a box never serves another model than was built.
  await writeLockFile(lockFilePath(join(outDir, 'models')), { lockfileVersion: 1, models: [fn.model.lock] });
  // The mirror as an absolute path: the folder keeps finding it wherever it is copied on this machine, and says
  // exactly that it is missing on another. `artifact` makes a missing model's message fit a folder with no honnx CLI.
  const settings = { ...(options.mirror ? { mirror: resolve(options.mirror) } : {}), artifact: true, ...(options.canary ? { versionStore: 'models' } : {}) };
  await writeFile(join(outDir, 'honnx.config.json'), `${JSON.stringify(settings, null, 2)}\n`);
  if (options.includeModel) {
    for (const file of fn.model.files) {
      const target = join(outDir, 'models', fn.model.name, file.path);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(fn.model.folder, file.path), target);
    }
  }
  if (options.canary) {
    const { version } = options.canary;
    await recordModelVersion(join(outDir, 'models'), version.folder, version.entry, version.digest, version.tag);
  }
  // The eval set gates a version before it takes traffic (the declared canary at start, an activation later), as on honnx serve.
  const evalSet = join(projectRoot, 'functions', `${fn.name}.eval.jsonl`);
  if (existsSync(evalSet)) {
    await mkdir(join(outDir, 'functions'), { recursive: true });
    await copyFile(evalSet, join(outDir, 'functions', `${fn.name}.eval.jsonl`));
  }
  const entry = await readFile(join(outDir, NODE_ENTRY));
  const built: NodeBuildResult = {
    outDir,
    name: fn.name,
    model: fn.model.name,
    entryBytes: entry.byteLength,
    entryGzipBytes: gzipSync(entry).byteLength,
    modelBytes: fn.model.totalBytes,
    modelIncluded: options.includeModel ?? false,
    ...(options.canary ? { canaryVersion: options.canary.version.digest } : {}),
    memory: estimateNodeMemory(fn.model, ...(options.canary ? [options.canary.model] : [])),
    sources: listBundledSources(result.metafile, join(outDir, NODE_ENTRY), { project: projectRoot, honnx: honnxRoot }),
  };
  await writeFile(join(outDir, 'build.json'), `${JSON.stringify(built, null, 2)}\n`);
  return built;
}
