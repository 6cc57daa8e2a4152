import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';

const projectRoot = join(import.meta.dirname, '../..');

const TICKETS = `import { defineFunction, generativeClassifyEndpoint } from '../src/index.ts';
export default defineFunction({ task: generativeClassifyEndpoint({ labels: ['billing', 'bug report', 'praise'] }), model: 'qwen3-tiny', parameters: { min_confidence: 1 } });
`;
const CONTACTS = `import * as z from 'zod/mini';
import { defineFunction, generativeExtractEndpoint } from '../src/index.ts';
export default defineFunction({ task: generativeExtractEndpoint, model: 'qwen3-tiny', schema: z.object({ name: z.string().check(z.maxLength(8)), vip: z.boolean() }) });
`;

// As honnx serve runs them: the models on a worker thread (one per process for a language model), HTTP on this one.
describe('generative functions served from a worker thread', () => {
  let folder: string;
  let mirror: string;
  let send: SendRequest;
  let release: () => Promise<void>;
  let metrics: () => Promise<string>;

  beforeAll(async () => {
    folder = await mkdtemp(join(projectRoot, '.functions-generative-'));
    await writeFile(join(folder, 'tickets.ts'), TICKETS);
    await writeFile(join(folder, 'contacts.ts'), CONTACTS);
    mirror = await mkdtemp(join(tmpdir(), 'honnx-generative-mirror-'));
    await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: join(mirror, 'qwen3-tiny'), variant: 'fp32', layers: 1, hiddenSize: 64 });
    const functions = await discoverFunctions(folder);
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirror, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const created = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths, workerThreads: { count: 1 } });
    await created.ready();
    release = created.release;
    send = sendThrough(created.app.fetch);
    metrics = async () => (await send('/metrics')).text();
  }, 120_000);
  afterAll(async () => {
    await release?.();
    await rm(folder, { recursive: true, force: true });
    await rm(mirror, { recursive: true, force: true });
  });

  it('ranks the labels and extracts into the schema on the thread, with the confidence read on the HTTP thread', async () => {
    const labels = (await (await send('/tickets', postJson({ inputs: 'The app crashes on start.', parameters: { top_k: 0 } }))).json()) as { label: string; score: number }[][];
    expect(labels[0].map(({ label }) => label).sort()).toEqual(['billing', 'bug report', 'praise']);
    expect(labels[0].reduce((sum, { score }) => sum + score, 0)).toBeCloseTo(1, 10);
    const shown = (await (await send('/tickets', postJson({ inputs: 'The app crashes on start.', parameters: { return_confidence: true } }))).json()) as {
      confidence: number;
      low_confidence: boolean;
    }[];
    expect(shown[0].confidence).toBe(labels[0][0].score);
    expect(shown[0].low_confidence).toBe(true);
    const contact = (await (await send('/contacts', postJson({ inputs: 'Ana is a VIP.' }))).json()) as Record<string, unknown>;
    expect(Object.keys(contact)).toEqual(['name', 'vip']);
    expect(typeof contact.name).toBe('string');
    expect((contact.name as string).length).toBeLessThanOrEqual(8);
    expect(typeof contact.vip).toBe('boolean');
    const text = await metrics();
    expect(text).toMatch(/honnx_answer_confidence_count\{function="tickets"[^}]*\} 2/);
    expect(text).toMatch(/honnx_answer_confidence_count\{function="contacts"[^}]*\} 1/);
  });
});
