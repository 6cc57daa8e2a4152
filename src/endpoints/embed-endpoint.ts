import * as z from 'zod/mini';
import type { FunctionLimits } from '../spec/function-limits.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import { createEmbedder, embedTexts, type EmbedOptions, type Embedder } from '../tasks/embed/embed-texts.ts';
import { answerTextBatches } from './answer-text-batches.ts';
import { measureWithTokenizer } from './measure-with-tokenizer.ts';
import { textOrTextsSchema, toTextList } from './schemas.ts';

const embedParametersSchema = z.strictObject({
  /** How token vectors become one per text; the model's sentence-transformers pooling (or mean) when unset. */
  pooling: z.optional(z.enum(['mean', 'cls', 'last_token'])),
  /** Scale each vector to unit length (default true). */
  normalize: z.optional(z.boolean()),
  /** Keep only the first n dimensions (normalized again). */
  dimensions: z.optional(z.int().check(z.minimum(1))),
  /** Cut inputs longer than the model accepts instead of refusing them with 413. */
  truncation: z.optional(z.boolean()),
  /** Answer `{embeddings, prompt_tokens}` instead of the bare vectors. */
  details: z.optional(z.boolean()),
});

/** The `parameters` an embed request may send (Hugging Face's feature-extraction, with honnx's pooling). */
export type EmbedParameters = z.infer<typeof embedParametersSchema>;

/** One vector per input; with `details`, also how many tokens the inputs were. */
export type EmbedAnswer = number[][] | { embeddings: number[][]; prompt_tokens: number };

const toEmbedOptions = (parameters: EmbedParameters, limits: Required<FunctionLimits>): EmbedOptions => ({
  pooling: parameters.pooling,
  normalize: parameters.normalize,
  dimensions: parameters.dimensions,
  truncate: parameters.truncation,
  maxTokens: limits.maxInputTokens,
});

/** One text's share of a batched run: its vector and its token count, so that `details` adds up per request. */
interface EmbeddedText {
  vector: number[];
  tokens: number;
}

async function embedEach(embedder: Embedder, texts: string[], parameters: EmbedParameters, limits: Required<FunctionLimits>): Promise<EmbeddedText[]> {
  const { vectors, textTokens } = await embedTexts(embedder, texts, toEmbedOptions(parameters, limits));
  return vectors.map((vector, index) => ({ vector, tokens: textTokens[index] }));
}

function toEmbedAnswer(results: readonly EmbeddedText[], parameters: EmbedParameters): EmbedAnswer {
  const embeddings = results.map((result) => result.vector);
  return parameters.details ? { embeddings, prompt_tokens: results.reduce((sum, result) => sum + result.tokens, 0) } : embeddings;
}

/**
 * Feature extraction, answered as the Hugging Face Inference API does (`[[...], ...]`, one vector per input) and
 * behind OpenAI's `/v1/embeddings`: an encoder's token vectors pooled (mean, [CLS] or last token) and normalized.
 */
export const embedEndpoint: TaskEndpoint<Embedder, string | string[], EmbedParameters, EmbedAnswer> = {
  task: 'embed',
  inputsSchema: textOrTextsSchema,
  parametersSchema: embedParametersSchema,
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 64, maxInputTokens: 4096, maxNewTokens: 0, maxSentences: 0 },
  prepare: createEmbedder,
  async warmUp(embedder) {
    await embedTexts(embedder, ['warm up'], { truncate: true });
  },
  // With truncation a long text is cut to the limit, not refused.
  refusesLongInputs: (parameters) => parameters.truncation !== true,
  describe: (embedder) => ({
    dimensions: embedder.dimensions,
    pooling: embedder.defaultPooling,
    output: embedder.outputName,
    limits: Number.isFinite(embedder.textEncoder.maxLength) ? { maxInputTokens: embedder.textEncoder.maxLength } : {},
    execution_provider: embedder.session.executionProvider,
  }),
  answer: async (embedder, inputs, { parameters, limits }) => toEmbedAnswer(await embedEach(embedder, toTextList(inputs), parameters, limits), parameters),
  // Concurrent requests with the same parameters share runs (answerTextBatches: a bad text fails only its own
  // request), padded to their longest text; the scheduler groups them by token length (createMeasure) and takes at
  // most maxBatchSize texts, and embedTexts cuts any list into runs of at most MAX_EMBED_RUN_ROWS.
  answerBatch: async (embedder, requests, limits) => {
    const answers = await answerTextBatches(requests, (texts, parameters) => embedEach(embedder, texts, parameters, limits), (results) => results);
    return answers.map((answer, index) => (answer.ok ? { ok: true, value: toEmbedAnswer(answer.value, requests[index].parameters) } : answer));
  },
  createMeasure: measureWithTokenizer,
  defaultServing: { batching: { maxBatchSize: 16 } },
};
