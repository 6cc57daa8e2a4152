import { readConllSentences, readSst2Sentences } from './inputs.ts';

/** A model served by one honnx function, measured against transformers.js and the raw floor. */
interface BenchCaseBase {
  /** The honnx function (functions/<name>.ts) and the route both servers answer on. */
  functionName: string;
  model: string;
  /** transformers.js pipeline task for the same model. */
  pipelineTask: string;
  /** Call options of the transformers.js pipeline, chosen to do the same work as the honnx function. */
  pipelineOptions: Record<string, unknown>;
}

/** One text per request; measured at several concurrencies. */
export interface EncoderCase extends BenchCaseBase {
  kind: 'encoder';
  texts: string[];
}

/** Greedy generation of a fixed number of tokens from a fixed prompt. */
export interface GenerationCase extends BenchCaseBase {
  kind: 'generation';
  prompt: string;
  maxNewTokens: number;
}

export type BenchCase = EncoderCase | GenerationCase;

export const CONCURRENCIES = [1, 32] as const;

export function createBenchCases(): BenchCase[] {
  return [
    {
      kind: 'encoder',
      functionName: 'classify',
      model: 'sentiment-sst2-mini',
      pipelineTask: 'text-classification',
      // functions/classify.ts answers every label (top_k null); so does this.
      pipelineOptions: { top_k: null },
      texts: readSst2Sentences(500),
    },
    {
      kind: 'encoder',
      functionName: 'extract',
      model: 'ner-conll03-mini-cased',
      pipelineTask: 'token-classification',
      // functions/extract.ts groups sub-tokens into entities ("first"); transformers.js 4.3.1 groups only with
      // "simple", which does the same work (one label per word, words merged into entities).
      pipelineOptions: { aggregation_strategy: 'simple' },
      texts: readConllSentences(500),
    },
    {
      kind: 'generation',
      functionName: 'generate',
      model: 'tinystories-260k',
      pipelineTask: 'text-generation',
      // Greedy; the answer without the prompt, as honnx answers by default.
      pipelineOptions: { do_sample: false, return_full_text: false },
      // Greedy decoding from this prompt runs 64 tokens without reaching <s> (the model's end id); the
      // orchestrator checks that every setup generated the same text.
      prompt: 'Once upon a time',
      maxNewTokens: 64,
    },
  ];
}

/** The Hugging Face request bodies a case sends, identical for honnx and transformers.js. */
export function requestBodies(benchCase: BenchCase): string[] {
  if (benchCase.kind === 'encoder') return benchCase.texts.map((text) => JSON.stringify({ inputs: text }));
  return [JSON.stringify({ inputs: benchCase.prompt, parameters: { max_new_tokens: benchCase.maxNewTokens, do_sample: false } })];
}
