import { env, pipeline } from '@huggingface/transformers';
import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../src/build/build-project.ts';
import { FEATURE_MODEL, featureModelsFolder, writeFeatureModel } from '../embed/feature-model.ts';
import { collectChatStream, readGreedySample } from '../openai/openai-app.ts';
import { cosine } from '../support/cosine.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startWranglerDev, type RunningArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');
/** A project of two functions, a chat (generate) and an embed one, built as `honnx build` builds a Workers project. */
const project = join(projectRoot, '.cache/openai-worker-project');
const TEXTS = ['I love this movie', 'The plot was dull and far too long.'];

async function writeProject(): Promise<void> {
  await rm(project, { recursive: true, force: true });
  await mkdir(join(project, 'functions'), { recursive: true });
  // The encoder goes in the project's models/ (no mirror model exports its hidden states); TinyStories comes from the mirror.
  await cp(await writeFeatureModel(), join(project, 'models', FEATURE_MODEL), { recursive: true });
  await writeFile(join(project, 'functions/chat.ts'), "import { defineFunction, generateEndpoint } from '../../../src/index.ts';\nexport default defineFunction({ task: generateEndpoint, model: 'tinystories-260k' });\n");
  await writeFile(join(project, 'functions/embed.ts'), `import { defineFunction, embedEndpoint } from '../../../src/index.ts';\nexport default defineFunction({ task: embedEndpoint, model: '${FEATURE_MODEL}' });\n`);
}

// The official clients, unmodified, against a Workers build of honnx under `wrangler dev` (workerd, onnxruntime-web's
// WASM engine, models bundled as Data modules), reached over loopback HTTP as a deployed worker would be.
describe('OpenAI and Hugging Face clients against a built worker under wrangler dev', () => {
  let worker: RunningArtifact | undefined;
  let openai: OpenAI;
  let sample: Awaited<ReturnType<typeof readGreedySample>>;
  const mirrorBefore = process.env.HONNX_MIRROR;

  beforeAll(async () => {
    await writeProject();
    process.env.HONNX_MIRROR = mirrorFolder;
    const rows = await buildProject({ projectRoot: project, oneWorker: join(project, 'worker') });
    expect(rows.map((row) => [row.function, row.refusal])).toEqual([['chat', undefined], ['embed', undefined]]);
    worker = await startWranglerDev(join(project, 'worker'), { timeoutMs: 120_000 });
    openai = new OpenAI({ apiKey: 'none', baseURL: `${worker.url}/v1`, maxRetries: 0 });
    sample = await readGreedySample();
  }, 240_000);
  afterAll(async () => {
    await worker?.stop();
    if (mirrorBefore === undefined) delete process.env.HONNX_MIRROR;
    else process.env.HONNX_MIRROR = mirrorBefore;
    await rm(project, { recursive: true, force: true });
  });

  it('openai: chat.completions.create with and without stream gives the published greedy continuation; models.list', async () => {
    const completion = await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens });
    expect(completion.choices[0].message.content).toBe(sample.continuation);
    expect(completion.usage?.completion_tokens).toBe(sample.newTokens);
    const stream = await openai.chat.completions.create({
      model: 'tinystories-260k',
      messages: [{ role: 'user', content: sample.prompt }],
      temperature: 0,
      max_tokens: sample.newTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await collectChatStream(stream);
    expect(text).toBe(sample.continuation);
    expect(usage?.total_tokens).toBe(sample.prompt_ids.length + sample.newTokens);
    const models = [];
    for await (const model of openai.models.list()) models.push(model.id);
    expect(models).toEqual(['chat', 'embed']);
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("openai: embeddings.create (base64 by default, and float) matches transformers.js's feature-extraction at cosine ≥ 0.9999", async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${featureModelsFolder}/`;
    const extractor = await pipeline('feature-extraction', FEATURE_MODEL, { dtype: 'fp32' });
    const expected = (await extractor(TEXTS, { pooling: 'mean', normalize: true })).tolist() as number[][];
    for (const encoding of [undefined, 'float'] as const) {
      const answer = await openai.embeddings.create({ model: 'embed', input: TEXTS, ...(encoding ? { encoding_format: encoding } : {}) });
      expect(answer.data).toHaveLength(TEXTS.length);
      answer.data.forEach((entry, index) => expect(cosine(entry.embedding, expected[index])).toBeGreaterThanOrEqual(0.9999));
    }
  });

  it('@huggingface/inference: chatCompletion, chatCompletionStream and textGeneration on the worker URL', async () => {
    const endpoint = new InferenceClient('none').endpoint(worker!.url);
    const answer = await endpoint.chatCompletion({ model: 'chat', messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens });
    expect(answer.choices[0].message.content).toBe(sample.continuation);
    let text = '';
    for await (const chunk of endpoint.chatCompletionStream({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(sample.continuation);
    const generated = await endpoint.textGeneration({ inputs: sample.prompt, parameters: { max_new_tokens: sample.newTokens, do_sample: false } });
    expect(generated.generated_text).toBe(sample.continuation);
  });
});
