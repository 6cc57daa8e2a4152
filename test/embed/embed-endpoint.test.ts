import { env, pipeline } from '@huggingface/transformers';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { embedEndpoint } from '../../src/endpoints/embed-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { postJson, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { cosine } from '../support/cosine.ts';
import { FEATURE_MODEL, featureModelsFolder, writeFeatureModel } from './feature-model.ts';

type Json = Record<string, any>;

const TEXTS = ['I love this movie', 'The plot was dull and far too long.', 'A quiet, beautiful film about two brothers in Paris'];

describe.each(transports)('embed function and /v1/embeddings on a real BERT encoder ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> } | undefined;
  const send: SendRequest = (path, init) => started!.send(path, init);
  /** transformers.js 4.3.1's feature-extraction pipeline on the same folder: mean pooling, then normalized. */
  let reference: (pooling: 'mean' | 'cls') => Promise<number[][]>;

  beforeAll(async () => {
    const folder = await writeFeatureModel();
    const fn = defineFunction({ task: embedEndpoint, model: FEATURE_MODEL });
    const engine = createNodeEngine({ threads: 1 });
    const host = createFunctionHost('embed', fn.definition, () => loadModelBundle(createFolderModelFiles(folder, FEATURE_MODEL), engine));
    await host.load();
    started = await transport.start(createHonnxApp({ functions: [{ fn, host }] }).fetch);
    env.allowRemoteModels = false;
    env.localModelPath = `${featureModelsFolder}/`;
    const extractor = await pipeline('feature-extraction', FEATURE_MODEL, { dtype: 'fp32' });
    reference = async (pooling) => (await extractor(TEXTS, { pooling, normalize: true })).tolist() as number[][];
  });
  afterAll(() => started?.stop());

  it("HF feature-extraction at POST /<function>: one unit vector per text, cosine ≥ 0.9999 with transformers.js's pipeline", async () => {
    for (const pooling of ['mean', 'cls'] as const) {
      const response = await send('/embed', postJson({ inputs: TEXTS, parameters: { pooling } }));
      expect(response.status).toBe(200);
      const vectors = (await response.json()) as number[][];
      const expected = await reference(pooling);
      expect(vectors).toHaveLength(TEXTS.length);
      vectors.forEach((vector, index) => {
        expect(vector).toHaveLength(192);
        expect(cosine(vector, expected[index])).toBeGreaterThanOrEqual(0.9999);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
      });
    }
    // Texts of other lengths in one batch pool only their own tokens: alone, each gives the same vector.
    const alone = ((await (await send('/embed', postJson({ inputs: TEXTS[0] }))).json()) as number[][])[0];
    const batched = ((await (await send('/embed', postJson({ inputs: TEXTS }))).json()) as number[][])[0];
    expect(cosine(alone, batched)).toBeGreaterThan(0.999999);
  });

  it('last-token pooling, no normalization and dimensions truncation', async () => {
    const [raw] = (await (await send('/embed', postJson({ inputs: TEXTS[1], parameters: { normalize: false, pooling: 'last_token' } }))).json()) as number[][];
    expect(Math.hypot(...raw)).not.toBeCloseTo(1, 2);
    const [cut] = (await (await send('/embed', postJson({ inputs: TEXTS[1], parameters: { dimensions: 32 } }))).json()) as number[][];
    expect(cut).toHaveLength(32);
    expect(Math.hypot(...cut)).toBeCloseTo(1, 6);
    const tooMany = await send('/embed', postJson({ inputs: TEXTS[1], parameters: { dimensions: 500 } }));
    expect(tooMany.status).toBe(400);
  });

  it('/v1/embeddings: the openai client, float and base64, usage, dimensions; errors in OpenAI shape', async () => {
    const client = new OpenAI({
      apiKey: 'none',
      baseURL: 'http://honnx.test/v1',
      maxRetries: 0,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        return send(`${url.pathname}${url.search}`, init);
      },
    });
    const floats = await client.embeddings.create({ model: 'embed', input: TEXTS, encoding_format: 'float' });
    const expected = await reference('mean');
    expect(floats.data.map((entry) => entry.index)).toEqual([0, 1, 2]);
    floats.data.forEach((entry, index) => expect(cosine(entry.embedding, expected[index])).toBeGreaterThanOrEqual(0.9999));
    expect(floats.usage.prompt_tokens).toBeGreaterThan(TEXTS.length * 3);
    // The client asks for base64 by default and decodes it itself.
    const decoded = await client.embeddings.create({ model: FEATURE_MODEL, input: TEXTS[0] });
    expect(cosine(decoded.data[0].embedding, expected[0])).toBeGreaterThanOrEqual(0.9999);
    const short = await client.embeddings.create({ model: 'embed', input: 'short', dimensions: 16, encoding_format: 'float' });
    expect(short.data[0].embedding).toHaveLength(16);
    const unknown = await send('/v1/embeddings', postJson({ model: 'nope', input: 'x' }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Json).error).toMatchObject({ param: 'model', code: 'model_not_found' });
    const empty = await send('/v1/embeddings', postJson({ model: 'embed', input: ['ok', ' '] }));
    expect(((await empty.json()) as Json).error.param).toBe('input[1]');
  });
});
