import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../src/build/build-project.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startWranglerDev, type RunningArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');
/** A project of two SLM-backed functions on tinystories-260k (from the mirror), built as `honnx build` builds a Workers project. */
const project = join(projectRoot, '.cache/generative-worker-project');

const PETS = `import { defineFunction, generativeClassifyEndpoint } from '../../../src/index.ts';
export default defineFunction({ task: generativeClassifyEndpoint({ labels: ['dog', 'cat', 'little bird'] }), model: 'tinystories-260k', parameters: { min_confidence: 0.5 } });
`;
const CHARACTERS = `import { z } from 'zod';
import { defineFunction, generativeExtractEndpoint } from '../../../src/index.ts';
export default defineFunction({
  task: generativeExtractEndpoint,
  model: 'tinystories-260k',
  schema: z.object({ name: z.string().max(10), happy: z.boolean(), age: z.number().int().min(0).max(99) }),
  limits: { maxNewTokens: 64 },
});
`;

const STORIES = ['Tom had a dog named Max. Max liked to run.', 'The cat sat in the sun all day.', 'A little bird sang in the tree.'];

type Json = Record<string, any>;

/** Sends the same requests to both targets and returns each target's answers, in order. */
async function askBoth(targets: SendRequest[], requests: [path: string, body: Json][]): Promise<{ status: number; body: Json }[][]> {
  return Promise.all(
    targets.map(async (send) => {
      const answers = [];
      for (const [path, body] of requests) {
        const response = await send(path, postJson(body));
        answers.push({ status: response.status, body: (await response.json()) as Json });
      }
      return answers;
    }),
  );
}

/** Scores (and confidences) equal to `digits` decimals, everything else exactly. */
function expectCloseAnswers(worker: unknown, node: unknown, where: string): void {
  if (typeof node === 'number') {
    expect(typeof worker, where).toBe('number');
    expect(Math.abs((worker as number) - node), `${where}: worker ${worker}, node ${node}`).toBeLessThan(1e-4);
  } else if (Array.isArray(node)) {
    expect(Array.isArray(worker) && worker.length, where).toBe(node.length);
    node.forEach((item, index) => expectCloseAnswers((worker as unknown[])[index], item, `${where}[${index}]`));
  } else if (node !== null && typeof node === 'object') {
    expect(Object.keys(worker as object), where).toEqual(Object.keys(node));
    for (const [key, value] of Object.entries(node)) expectCloseAnswers((worker as Json)[key], value, `${where}.${key}`);
  } else {
    expect(worker, where).toBe(node);
  }
}

// The same two function files run as a Workers build under `wrangler dev` (workerd, onnxruntime-web's WASM engine,
// the model bundled as Data modules) and on Node (onnxruntime-node), and must answer alike.
describe('SLM-backed classify and extract functions inside workerd, as on Node', () => {
  let worker: RunningArtifact | undefined;
  let releaseNode: (() => Promise<void>) | undefined;
  let targets: SendRequest[];
  const mirrorBefore = process.env.HONNX_MIRROR;

  beforeAll(async () => {
    await rm(project, { recursive: true, force: true });
    await mkdir(join(project, 'functions'), { recursive: true });
    await writeFile(join(project, 'functions/pets.ts'), PETS);
    await writeFile(join(project, 'functions/characters.ts'), CHARACTERS);
    process.env.HONNX_MIRROR = mirrorFolder;
    const rows = await buildProject({ projectRoot: project, oneWorker: join(project, 'worker') });
    expect(rows.map((row) => [row.function, row.refusal])).toEqual([['characters', undefined], ['pets', undefined]]);
    worker = await startWranglerDev(join(project, 'worker'), { timeoutMs: 120_000 });
    const node = createNodeApp({
      functions: await discoverFunctions(join(project, 'functions')),
      engine: createNodeEngine({ threads: 1 }),
      searchPaths: readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') }),
    });
    await node.ready();
    releaseNode = node.release;
    const workerUrl = worker.url;
    targets = [(path, init) => fetch(`${workerUrl}${path}`, init), sendThrough(node.app.fetch)];
  }, 240_000);
  afterAll(async () => {
    await worker?.stop();
    await releaseNode?.();
    if (mirrorBefore === undefined) delete process.env.HONNX_MIRROR;
    else process.env.HONNX_MIRROR = mirrorBefore;
    await rm(project, { recursive: true, force: true });
  });

  it('classify: the same labels in the same order, scores within 1e-4 summing to 1, and the same confidence', async () => {
    const [onWorker, onNode] = await askBoth(targets, [
      ['/pets', { inputs: STORIES, parameters: { top_k: 0 } }],
      ['/pets', { inputs: STORIES[0], parameters: { return_confidence: true } }],
    ]);
    expect(onWorker.map((answer) => answer.status)).toEqual([200, 200]);
    expect(onNode.map((answer) => answer.status)).toEqual([200, 200]);
    const ranked = onNode[0].body as unknown as { label: string; score: number }[][];
    expect(ranked).toHaveLength(STORIES.length);
    for (const labels of ranked) {
      expect(labels.map(({ label }) => label).sort()).toEqual(['cat', 'dog', 'little bird']);
      expect(labels.reduce((sum, { score }) => sum + score, 0)).toBeCloseTo(1, 10);
    }
    expect(onNode[1].body).toMatchObject([{ confidence: ranked[0][0].score, low_confidence: ranked[0][0].score < 0.5 }]);
    expectCloseAnswers(onWorker[0].body, onNode[0].body, 'pets');
    expectCloseAnswers(onWorker[1].body, onNode[1].body, 'pets with confidence');
  });

  it('extract: the same value of the zod schema, and the same confidence within 1e-4', async () => {
    const [onWorker, onNode] = await askBoth(targets, [
      ['/characters', { inputs: 'Tom was a happy boy. He was five years old.' }],
      ['/characters', { inputs: ['Lily was sad.', 'Ben was happy.'], parameters: { return_confidence: true } }],
    ]);
    expect(onWorker.map((answer) => answer.status)).toEqual([200, 200]);
    expect(onNode.map((answer) => answer.status)).toEqual([200, 200]);
    const value = onNode[0].body;
    expect(Object.keys(value)).toEqual(['name', 'happy', 'age']);
    expect(typeof value.name).toBe('string');
    expect(typeof value.happy).toBe('boolean');
    expect(Number.isInteger(value.age)).toBe(true);
    expect(onWorker[0].body).toEqual(value);
    const shown = onNode[1].body as unknown as { value: Json; confidence: number }[];
    expect(shown).toHaveLength(2);
    for (const entry of shown) expect(entry.confidence).toBeGreaterThan(0);
    expectCloseAnswers(onWorker[1].body, onNode[1].body, 'characters with confidence');
  });
});
