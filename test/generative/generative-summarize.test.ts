import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import type { ModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { encodePrompt } from '../../src/tasks/generate/generate-text.ts';
import { buildSummaryPrompt, createGenerativeSummarizer, summarizeGeneratively, type GenerativeSummarizer } from '../../src/tasks/summarize/generative.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { openSynthesizedChatModel, type SynthesizedChatModel } from '../support/synth-chat-model.ts';

const ARTICLE = 'The council met on Monday. It approved a new park by the river. Work starts in spring and ends next year.';

describe('abstractive summarize on a random-weight Qwen3 (chat template, vocabulary 151,936)', () => {
  let synthesized: SynthesizedChatModel;
  let bundle: ModelBundle;
  let summarizer: GenerativeSummarizer;
  beforeAll(async () => {
    synthesized = await openSynthesizedChatModel();
    bundle = synthesized.bundle;
    summarizer = { kind: 'generative', generator: synthesized.generator, taskParams: {} };
  }, 60_000);
  afterAll(() => synthesized?.remove());

  it("asks in the model's chat template, for the sentences requested", () => {
    const prompt = buildSummaryPrompt(summarizer, ARTICLE, { sentences: 2 });
    expect(prompt.text).toContain('<|im_start|>user\nSummarize the following text in 2 sentences.');
    expect(prompt.text).toContain(ARTICLE);
    expect(prompt.text.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(prompt.addSpecialTokens).toBe(false);
  });

  it('stops within max_new_tokens, and its confidence is the geometric mean of the tokens as a teacher-forced run scores them', async () => {
    const summary = await summarizeGeneratively(summarizer, ARTICLE, { maxNewTokens: 12, doSample: false });
    expect(summary.tokenIds.length).toBeLessThanOrEqual(12);
    const promptIds = encodePrompt(summarizer.generator, buildSummaryPrompt(summarizer, ARTICLE));
    const eos = new Set(summarizer.generator.defaults.eosTokenIds);
    const [logprobs] = await summarizer.generator.model.scoreContinuations!(promptIds, [summary.tokenIds]);
    const counted = logprobs.filter((_, index) => !eos.has(summary.tokenIds[index]));
    const expected = Math.exp(counted.reduce((sum, logprob) => sum + logprob, 0) / counted.length);
    expect(summary.confidence).toBeCloseTo(expected, 5);
    expect(summary.confidence).toBeGreaterThan(0);
    expect(summary.confidence).toBeLessThanOrEqual(1);
  });

  it('answers POST [{summary_text}] bounded by the function limit, with the confidence opt-in and in the log line', async () => {
    const fn = defineFunction({ task: summarizeEndpoint, model: 'qwen3-tiny', limits: { maxNewTokens: 8 }, parameters: { temperature: 0 } });
    const host = createFunctionHost('digest', fn.definition, async () => bundle);
    await host.load();
    const lines: Record<string, unknown>[] = [];
    const app = createHonnxApp({ functions: [{ fn, host }], logger: createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) }) });
    const send = sendThrough(app.fetch);
    const plain = (await (await send('/digest', postJson({ inputs: ARTICLE, parameters: { sentences: 1 } }))).json()) as Record<string, unknown>[];
    expect(Object.keys(plain[0])).toEqual(['summary_text']);
    const direct = await summarizeGeneratively(await createGenerativeSummarizer(bundle), ARTICLE, { maxNewTokens: 8, doSample: false, sentences: 1 });
    expect(direct.tokenIds.length).toBeLessThanOrEqual(8);
    expect(plain[0].summary_text).toBe(direct.generatedText);
    const shown = (await (await send('/digest', postJson({ inputs: ARTICLE, parameters: { sentences: 1, return_confidence: true, min_confidence: 1 } }))).json()) as {
      summary_text: string;
      confidence: number;
      low_confidence: boolean;
    }[];
    expect(shown[0].summary_text).toBe(direct.generatedText);
    expect(shown[0].confidence).toBeCloseTo(direct.confidence, 6);
    expect(shown[0].low_confidence).toBe(true);
    expect(lines.filter((line) => line.function === 'digest').map((line) => line.confidence)).toEqual([expect.closeTo(direct.confidence, 4), expect.closeTo(direct.confidence, 4)]);
    const over = await send('/digest', postJson({ inputs: ARTICLE, parameters: { max_new_tokens: 9 } }));
    expect(over.status).toBe(413);
    // sentences is asked in the default chat instruction: a prompt that would not carry it refuses it.
    for (const [parameters, reason] of [
      [{ sentences: 2, prompt_template: 'Shorten: {{input}}' }, 'prompt_template replaces the instruction'],
      [{ sentences: 2, use_chat_template: false }, 'does not go through a chat template'],
      [{ system_prompt: 'Be brief.', use_chat_template: false }, 'system_prompt needs a chat template'],
    ] as const) {
      const refused = await send('/digest', postJson({ inputs: ARTICLE, parameters }));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(reason);
    }
    await host.release();
  });
});
