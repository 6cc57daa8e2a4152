import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProject, type BuildRow } from '../../src/build/build-project.ts';
import { listFunctionSources, type FunctionSource } from '../../src/build/function-sources.ts';
import { WORKERS_LIMITS } from '../../src/build/memory-estimate.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { readUploadSize, runWrangler, startNodeArtifact, startWranglerDev, type RunningArtifact } from './artifact-processes.ts';
import { findDifferences, listParityRequests, sendParityRequest } from './parity-requests.ts';

const projectRoot = join(import.meta.dirname, '../..');
const outDir = join(projectRoot, '.cache/build-test');
/** The node artifact finds its model through the mirror only: no project models/, an empty cache. */
const nodeEnvironment = { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') };

/** Task code by folder: a function's bundle may hold its own task's only. */
const TASK_SOURCES: Record<string, RegExp> = {
  classify: /^src\/(tasks\/classify\/|http\/classify-endpoint)/,
  summarize: /^src\/(tasks\/summarize\/|http\/summarize-endpoint)/,
  extract: /^src\/(tasks\/extract\/|http\/extract-endpoint)/,
  generate: /^src\/(tasks\/generate\/|http\/generate-endpoint)/,
};

async function readBuildJson(target: string, name: string): Promise<{ sources: string[] }> {
  return JSON.parse(await readFile(join(outDir, target, name, 'build.json'), 'utf8'));
}

async function askAll(artifact: RunningArtifact, route: string, task: string) {
  const answers = [];
  for (const request of await listParityRequests(task)) answers.push(await sendParityRequest(artifact.url, route, request));
  return answers;
}

describe('honnx build of the default functions', async () => {
  const functions: FunctionSource[] = await listFunctionSources(join(projectRoot, 'functions'));
  let rows: BuildRow[];

  beforeAll(async () => {
    rows = await buildProject({ projectRoot, outDir });
  });

  it('builds every function for both targets within the Workers limits', () => {
    for (const fn of functions) {
      const workers = rows.find((row) => row.function === fn.name && row.target === 'workers');
      const node = rows.find((row) => row.function === fn.name && row.target === 'node');
      expect(workers?.refusal).toBeUndefined();
      expect(workers!.uploadBytes).toBeLessThanOrEqual(WORKERS_LIMITS.uploadBytes);
      expect(workers!.memoryBytes).toBeLessThanOrEqual(WORKERS_LIMITS.memoryBytes);
      expect(existsSync(join(outDir, 'workers', fn.name, 'wrangler.toml'))).toBe(true);
      expect(node?.refusal).toBeUndefined();
      expect(existsSync(join(outDir, 'node', fn.name, 'index.mjs'))).toBe(true);
      expect(existsSync(join(outDir, 'node', fn.name, 'models/honnx.lock.json'))).toBe(true);
    }
  });

  it("bundles no other task's code into a function (no generation loop in a classify bundle)", async () => {
    for (const fn of functions) {
      const own = fn.definition.task.task;
      for (const target of ['workers', 'node']) {
        const { sources } = await readBuildJson(target, fn.name);
        expect(sources).toContain(`functions/${fn.name}.ts`);
        // Summaries may be generative, so the summarize task legitimately carries the generation loop.
        const allowed = new Set([own, ...(own === 'summarize' ? ['generate'] : [])]);
        for (const [task, pattern] of Object.entries(TASK_SOURCES)) {
          if (!allowed.has(task)) expect(sources.filter((source) => pattern.test(source)), `${target}/${fn.name} holds ${task} code`).toEqual([]);
        }
      }
    }
    const classify = functions.find((fn) => fn.definition.task.task === 'classify')!;
    const generate = functions.find((fn) => fn.definition.task.task === 'generate');
    const classifyScript = await readFile(join(outDir, 'workers', classify.name, 'worker.mjs'), 'utf8');
    // The KV-cache input names exist only in the generation code: present in a generate bundle, absent from classify.
    expect(classifyScript).not.toContain('past_key_values');
    if (generate) expect(await readFile(join(outDir, 'workers', generate.name, 'worker.mjs'), 'utf8')).toContain('past_key_values');
  });

  describe.each(functions.map((fn) => [fn.name, fn] as const))('%s', (name, fn) => {
    it('the worker under wrangler dev and the node artifact both answer, with the same results', async () => {
      const route = fn.definition.route ?? `/${name}`;
      const task = fn.definition.task.task;
      const worker = await startWranglerDev(join(outDir, 'workers', name));
      let fromWorker;
      try {
        const info = (await (await fetch(`${worker.url}${route}`)).json()) as Record<string, unknown>;
        expect(info.state).toBe('ready');
        expect(info.engine).toBe('onnxruntime-web');
        expect(info.execution_provider).toBe('wasm');
        fromWorker = await askAll(worker, route, task);
      } finally {
        await worker.stop();
      }
      const node = await startNodeArtifact(join(outDir, 'node', name), { env: nodeEnvironment });
      let fromNode;
      try {
        const info = (await (await fetch(`${node.url}${route}`)).json()) as Record<string, unknown>;
        expect(info.engine).toBe('onnxruntime-node');
        fromNode = await askAll(node, route, task);
      } finally {
        await node.stop();
      }
      expect(fromWorker.length).toBeGreaterThan(0);
      expect(fromWorker.map(({ status }) => status)).toEqual(fromWorker.map(() => 200));
      expect(fromNode.map(({ status }) => status)).toEqual(fromNode.map(() => 200));
      // Labels, entities, sentences and greedy token ids equal; scores and log-probabilities within 1e-3.
      expect(findDifferences(fromWorker, fromNode, 1e-3)).toEqual([]);
    });

    it('passes wrangler deploy --dry-run, which reports the upload size', async () => {
      const { code, output } = await runWrangler(join(outDir, 'workers', name), ['deploy', '--dry-run', '--outdir', '.wrangler/dry-run']);
      expect(code, output).toBe(0);
      const upload = readUploadSize(output);
      expect(upload, output).toBeDefined();
      const row = rows.find((candidate) => candidate.function === name && candidate.target === 'workers')!;
      // wrangler counts KiB of the same files the build counted, plus its own metadata.
      expect(Math.abs(upload!.kibibytes * 1024 - row.uploadBytes!) / row.uploadBytes!).toBeLessThan(0.02);
    });
  });
});
