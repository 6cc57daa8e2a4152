import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSession, Feeds } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readFloat32 } from '../../src/engine/tensor.ts';
import { generativeClassifyEndpoint } from '../../src/endpoints/generative-classify-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import { createOpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { buildClassifyPrompt, classifyGeneratively, createGenerativeClassifier } from '../../src/tasks/classify/generative-classifier.ts';
import { createDecoderOnlyModel } from '../../src/tasks/generate/decoder-only-model.ts';
import { encodePrompt } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { openSynthesizedChatModel, type SynthesizedChatModel } from '../support/synth-chat-model.ts';

const LABELS = ['positive', 'negative', 'neutral feedback', 'a question about billing'];
const TEXTS = ['I love this product, it works great.', 'Why was I charged twice this month?'];

/**
 * The reference: log P(label tokens | prompt) from one plain run of the whole sequence, prompt then label, on a
 * fresh session with an empty cache, read position by position from the full logits. No honnx decoding code.
 */
async function referenceSequenceLogprob(session: EngineSession, config: Record<string, unknown>, promptIds: number[], labelIds: number[]): Promise<number> {
  const ids = [...promptIds, ...labelIds];
  const length = ids.length;
  const feeds: Feeds = { input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, length] } };
  const names = new Set(session.inputs.map((input) => input.name));
  if (names.has('attention_mask')) feeds.attention_mask = { type: 'int64', data: new BigInt64Array(length).fill(1n), dims: [1, length] };
  if (names.has('position_ids')) feeds.position_ids = { type: 'int64', data: BigInt64Array.from({ length }, (_, index) => BigInt(index)), dims: [1, length] };
  const heads = Number(config.num_key_value_heads ?? config.num_attention_heads);
  const headSize = Number(config.head_dim ?? Number(config.hidden_size) / Number(config.num_attention_heads));
  for (const name of names) if (name.startsWith('past_key_values')) feeds[name] = { type: 'float32', data: new Float32Array(0), dims: [1, heads, 0, headSize] };
  const logits = (await session.run(feeds, ['logits'])).logits;
  const vocabulary = logits.dims[2];
  const data = readFloat32(logits);
  let total = 0;
  for (let index = 0; index < labelIds.length; index++) {
    const row = data.subarray((promptIds.length - 1 + index) * vocabulary, (promptIds.length + index) * vocabulary);
    let max = -Infinity;
    for (const value of row) max = Math.max(max, value);
    let sum = 0;
    for (const value of row) sum += Math.exp(value - max);
    total += row[labelIds[index]] - max - Math.log(sum);
  }
  return total;
}

describe('generative classify on a random-weight Qwen3 (chat template, vocabulary 151,936)', () => {
  let synthesized: SynthesizedChatModel;
  let bundle: ModelBundle;
  let generator: TextGenerator;
  beforeAll(async () => {
    synthesized = await openSynthesizedChatModel();
    ({ bundle, generator } = synthesized);
  }, 60_000);
  afterAll(() => synthesized?.remove());

  it('ranks the labels by their sequence log-probability, as a direct run of prompt + label + end of turn computes it', async () => {
    const classifier = createGenerativeClassifier(generator, { labels: LABELS });
    const session = await bundle.openSession();
    for (const text of TEXTS) {
      const result = await classifyGeneratively(classifier, text);
      const promptIds = encodePrompt(generator, buildClassifyPrompt(classifier, text));
      const reference: number[] = [];
      for (const labelIds of classifier.labelTokens) reference.push(await referenceSequenceLogprob(session, bundle.config, promptIds, [...labelIds]));
      result.sequenceLogprobs.forEach((logprob, index) => expect(logprob).toBeCloseTo(reference[index], 3));
      const expectedOrder = LABELS.map((label, index) => ({ label, logprob: reference[index] })).sort((a, b) => b.logprob - a.logprob).map(({ label }) => label);
      expect(result.scores.map(({ label }) => label)).toEqual(expectedOrder);
      expect(result.scores.reduce((sum, { score }) => sum + score, 0)).toBeCloseTo(1, 10);
      // Multi-token labels count whole, end of turn included: every label is at least two tokens here.
      expect(Math.min(...classifier.labelTokens.map((tokens) => tokens.length))).toBeGreaterThanOrEqual(2);
      expect(classifier.labelTokens.at(-1)!.length).toBeGreaterThan(3);
    }
    await session.release();
  });

  it('gives the same scores when the label continuations run in several batched runs (small chunks)', async () => {
    const session = await bundle.openSession();
    const chunked = createDecoderOnlyModel(session, { config: bundle.config, maxSequenceLength: 4096, prefillChunkTokens: 4 });
    const whole = await classifyGeneratively(createGenerativeClassifier(generator, { labels: LABELS }), TEXTS[0]);
    const split = await classifyGeneratively(createGenerativeClassifier({ ...generator, model: chunked }, { labels: LABELS }), TEXTS[0]);
    split.sequenceLogprobs.forEach((logprob, index) => expect(logprob).toBeCloseTo(whole.sequenceLogprobs[index], 4));
    await chunked.release();
  });

  it('answers POST in the Hugging Face classify shape, with the confidence opt-in, flagged under min_confidence, logged and in /metrics', async () => {
    const fn = defineFunction({ task: generativeClassifyEndpoint({ labels: LABELS }), model: 'qwen3-tiny', parameters: { min_confidence: 1 } });
    const host = createFunctionHost('tickets', fn.definition, async () => bundle);
    await host.load();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) });
    const app = createHonnxApp({ functions: [{ fn, host }], logger });
    const send = sendThrough(app.fetch);
    const plain = await send('/tickets', postJson({ inputs: TEXTS, parameters: { top_k: null } }));
    expect(plain.status).toBe(200);
    const lists = (await plain.json()) as { label: string; score: number }[][];
    expect(lists).toHaveLength(2);
    for (const list of lists) {
      expect(list.map(({ label }) => label).sort()).toEqual([...LABELS].sort());
      expect(list.reduce((sum, { score }) => sum + score, 0)).toBeCloseTo(1, 10);
      for (let index = 1; index < list.length; index++) expect(list[index].score).toBeLessThanOrEqual(list[index - 1].score);
    }
    const shown = (await (await send('/tickets', postJson({ inputs: TEXTS[0], parameters: { return_confidence: true } }))).json()) as {
      labels: { label: string; score: number }[];
      confidence: number;
      low_confidence: boolean;
    }[];
    expect(shown[0].labels).toHaveLength(1);
    expect(shown[0].confidence).toBe(shown[0].labels[0].score);
    expect(shown[0].confidence).toBe(lists[0][0].score);
    // The function's threshold of 1 flags every answer short of certainty; a request may lower it.
    expect(shown[0].confidence).toBeLessThan(1);
    expect(shown[0].low_confidence).toBe(true);
    const lowered = (await (await send('/tickets', postJson({ inputs: TEXTS[0], parameters: { return_confidence: true, min_confidence: shown[0].confidence } }))).json()) as typeof shown;
    expect(lowered[0].low_confidence).toBe(false);
    const bad = await send('/tickets', postJson({ inputs: 'x', parameters: { min_confidence: 2 } }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('min_confidence');
    const logged = lines.filter((line) => line.function === 'tickets' && line.status === 200);
    expect(logged).toHaveLength(3);
    // The lowest confidence of the request's inputs, flagged under min_confidence.
    expect(logged[0].confidence).toBeCloseTo(Math.min(lists[0][0].score, lists[1][0].score), 4);
    expect(logged[1]).toMatchObject({ low_confidence: true });
    const document = JSON.stringify(createOpenApiDocument([host]));
    expect(document).toContain(`"enum":${JSON.stringify(LABELS)}`);
    const metrics = await (await send('/metrics', { method: 'GET' })).text();
    expect(metrics).toMatch(/honnx_answer_confidence_count\{function="tickets"[^}]*\} 4/);
    await host.release();
  });

  it('refuses a label set that cannot be ranked, and an instruction without {{input}}, when the function is defined', () => {
    expect(() => generativeClassifyEndpoint({ labels: ['only'] })).toThrow(/two labels/);
    expect(() => generativeClassifyEndpoint({ labels: ['a', 'a'] })).toThrow(/twice/);
    expect(() => generativeClassifyEndpoint({ labels: ['a', 'b'], instruction: 'no slot' })).toThrow(/\{\{input\}\}/);
  });
});

describe('generative classify on tinystories-260k (no chat template: the label follows "Label:")', () => {
  it('scores each label after the plain prompt, with a leading space, and the scores sum to 1', async () => {
    const generator = await createTextGenerator(await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
    const classifier = createGenerativeClassifier(generator, { labels: ['happy', 'sad', 'scared'] });
    expect(buildClassifyPrompt(classifier, 'Tom lost his dog.').text).toBe('Text: Tom lost his dog.\nLabels: happy, sad, scared\nLabel:');
    const result = await classifyGeneratively(classifier, 'Tom lost his dog.');
    expect(result.scores.reduce((sum, { score }) => sum + score, 0)).toBeCloseTo(1, 10);
    expect(result.sequenceLogprobs.every((logprob) => Number.isFinite(logprob) && logprob < 0)).toBe(true);
    await generator.model.release();
  });
});
