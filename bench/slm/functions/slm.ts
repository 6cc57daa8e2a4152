import { defineFunction, generateEndpoint } from '../../../src/index.ts';

/** The bench's SLM function: the model and variant bench/slm/run.ts synthesized (SLM_MODEL, SLM_VARIANT). */
export default defineFunction({
  task: generateEndpoint,
  model: process.env.SLM_MODEL ?? 'qwen3-0.6b',
  variant: (process.env.SLM_VARIANT ?? 'q4') as 'q4',
  parameters: { do_sample: false },
  limits: { maxInputTokens: 2100, maxNewTokens: 256 },
  // A 2048-token prefill on a loaded 2-core box takes minutes.
  timeoutMilliseconds: 900_000,
});
