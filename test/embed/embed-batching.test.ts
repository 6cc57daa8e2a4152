import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { embedEndpoint, type EmbedAnswer, type EmbedParameters } from '../../src/endpoints/embed-endpoint.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { ignoreServingEvents } from '../../src/spec/serving-events.ts';
import { MAX_EMBED_RUN_ROWS, type Embedder } from '../../src/tasks/embed/embed-texts.ts';
import { cosine } from '../support/cosine.ts';
import { FEATURE_MODEL, writeFeatureModel } from './feature-model.ts';

const TEXTS = ['I love this movie', 'The plot was dull and far too long.', 'A quiet, beautiful film about two brothers in Paris', 'Fine.'];

/** A model bundle whose sessions count their engine runs and the rows of each. */
async function loadCountingBundle(folder: string, runs: number[]): Promise<ModelBundle> {
  const bundle = await loadModelBundle(createFolderModelFiles(folder, FEATURE_MODEL), createNodeEngine({ threads: 1 }));
  const open = bundle.openSession.bind(bundle);
  bundle.openSession = async (graph) => {
    const session = await open(graph);
    const run = session.run.bind(session);
    session.run = (feeds, outputs, options) => {
      runs.push(feeds.input_ids.dims[0]);
      return run(feeds, outputs, options);
    };
    return session;
  };
  return bundle;
}

const vectorsOf = (answer: EmbedAnswer): number[][] => (Array.isArray(answer) ? answer : answer.embeddings);

describe('embed batching on a real BERT encoder', () => {
  let folder: string;
  let embedder: Embedder;
  const runs: number[] = [];
  const limits = embedEndpoint.defaultLimits;
  const alone = (text: string, parameters: EmbedParameters = {}) => embedEndpoint.answer(embedder, text, { parameters, limits, stream: false }) as Promise<EmbedAnswer>;

  beforeAll(async () => {
    folder = await writeFeatureModel();
    embedder = await embedEndpoint.prepare(await loadCountingBundle(folder, runs));
  });

  it('answerBatch answers several requests in one engine run, each as it would be alone (cosine ≥ 0.9999)', async () => {
    const expected: number[][] = [];
    for (const text of TEXTS) expected.push(vectorsOf(await alone(text))[0]);
    runs.length = 0;
    const requests = [{ inputs: TEXTS[0], parameters: {} }, { inputs: [TEXTS[1], TEXTS[2]], parameters: {} }, { inputs: TEXTS[3], parameters: {} }];
    const answers = await embedEndpoint.answerBatch!(embedder, requests, limits);
    expect(runs).toEqual([4]);
    const vectors = answers.flatMap((answer) => {
      if (!answer.ok) throw answer.error;
      return vectorsOf(answer.value);
    });
    expect(vectors).toHaveLength(TEXTS.length);
    vectors.forEach((vector, index) => expect(cosine(vector, expected[index])).toBeGreaterThanOrEqual(0.9999));
  });

  it("details add up each request's own tokens; other parameters run apart; a bad request fails alone", async () => {
    const one = await alone(TEXTS[1], { details: true });
    runs.length = 0;
    const answers = await embedEndpoint.answerBatch!(
      embedder,
      [
        { inputs: TEXTS[1], parameters: { details: true } },
        { inputs: TEXTS[2], parameters: { details: true } },
        { inputs: TEXTS[0], parameters: { details: true, dimensions: 500 } },
        { inputs: TEXTS[3], parameters: { pooling: 'cls' } },
      ],
      limits,
    );
    expect(answers[0]).toEqual({ ok: true, value: expect.objectContaining({ prompt_tokens: (one as { prompt_tokens: number }).prompt_tokens }) });
    expect(answers[2].ok).toBe(false);
    expect(answers[3].ok).toBe(true);
    // One run for the two that share parameters, one for the too-wide dimensions, one for cls pooling.
    expect(runs).toEqual([2, 1, 1]);
  });

  it(`a long list is cut into runs of at most ${MAX_EMBED_RUN_ROWS} texts, with the same vectors`, async () => {
    const texts = Array.from({ length: MAX_EMBED_RUN_ROWS + 8 }, (_, index) => `${TEXTS[index % TEXTS.length]} ${index}`);
    runs.length = 0;
    const vectors = vectorsOf(await embedEndpoint.answer(embedder, texts, { parameters: {}, limits, stream: false }) as EmbedAnswer);
    expect(runs).toEqual([MAX_EMBED_RUN_ROWS, 8]);
    for (const index of [0, MAX_EMBED_RUN_ROWS - 1, MAX_EMBED_RUN_ROWS, texts.length - 1]) {
      expect(cosine(vectors[index], vectorsOf(await alone(texts[index]))[0])).toBeGreaterThanOrEqual(0.9999);
    }
  });

  it('through the function host, concurrent requests share one run', async () => {
    const hostRuns: number[] = [];
    const batches: number[] = [];
    const fn = defineFunction({ task: embedEndpoint, model: FEATURE_MODEL, batching: { maxBatchSize: 16, maxWaitMilliseconds: 50 } });
    const host = createFunctionHost('embed', fn.definition, () => loadCountingBundle(folder, hostRuns), {
      events: { ...ignoreServingEvents, batchCompleted: (_name, size) => batches.push(size) },
    });
    await host.load();
    hostRuns.length = 0;
    batches.length = 0;
    const answers = (await Promise.all(TEXTS.map((text) => host.submit({ inputs: text, parameters: {}, stream: false })))) as number[][][];
    expect(hostRuns.length).toBeLessThan(TEXTS.length);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(TEXTS.length);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    for (const [index, text] of TEXTS.entries()) expect(cosine(answers[index][0], vectorsOf(await alone(text))[0])).toBeGreaterThanOrEqual(0.9999);
    await host.release();
  });
});
