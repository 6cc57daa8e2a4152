import type { GraphSummary, ValueSummary } from './summarize-graph.ts';

export type HonnxTask = 'classify' | 'extract' | 'summarize' | 'generate';

/** Which honnx task serves a model, with which runner, and the evidence. */
export interface TaskFit {
  task: HonnxTask | undefined;
  runner: string;
  /** Other tasks the same model can serve (a causal LM can also summarize with a prompt). */
  alsoFits: HonnxTask[];
  reason: string;
}

export interface TaskEvidence {
  /** Graphs by base name ("model", "encoder_model", "decoder_model_merged", ...), fp32 preferred. */
  graphs: ReadonlyMap<string, GraphSummary>;
  config?: Record<string, unknown>;
  /** Top-level files of the model folder, when there is one. */
  files?: readonly string[];
}

const SUMMARIZING_FAMILIES = /^(bart|mbart|pegasus|pegasus_x|led|t5|mt5|longt5|flan-t5)$/;
const PAST_PREFIX = 'past_key_values.';

function logitsOf(graph: GraphSummary): ValueSummary | undefined {
  return graph.outputs.find((output) => output.name === 'logits') ?? (graph.outputs.length === 1 ? graph.outputs[0] : undefined);
}

function labelCount(config: Record<string, unknown> | undefined): number | undefined {
  const labels = config?.id2label;
  return labels && typeof labels === 'object' ? Object.keys(labels).length : undefined;
}

function architecture(config: Record<string, unknown> | undefined): string {
  return Array.isArray(config?.architectures) ? String(config.architectures[0] ?? '') : '';
}

function encoderDecoderFit(evidence: TaskEvidence): TaskFit {
  const { graphs, config } = evidence;
  const decoder = graphs.has('decoder_model_merged') ? 'decoder_model_merged' : 'decoder_model';
  const cache = graphs.get(decoder)?.inputs.some((input) => input.name.startsWith(PAST_PREFIX)) || graphs.has('decoder_with_past_model');
  const runner = `encoder-decoder generator (encoder_model + ${decoder}${cache ? ', KV cache' : ', no KV cache'})`;
  const taskParameters = config?.task_specific_params as Record<string, unknown> | undefined;
  const summarizes =
    taskParameters?.summarization !== undefined || SUMMARIZING_FAMILIES.test(String(config?.model_type ?? '')) || /Bart|Pegasus/.test(architecture(config));
  return summarizes
    ? { task: 'summarize', runner, alsoFits: ['generate'], reason: 'encoder and decoder graphs, and a model family trained to summarize' }
    : { task: 'generate', runner, alsoFits: ['summarize'], reason: 'encoder and decoder graphs (text-to-text generation)' };
}

function decoderOnlyFit(graph: GraphSummary, why: string): TaskFit {
  const cache = graph.inputs.some((input) => input.name.startsWith(PAST_PREFIX));
  return {
    task: 'generate',
    runner: `decoder-only causal LM (${cache ? 'KV cache' : 'no KV cache: every step reruns the whole sequence'})`,
    alsoFits: ['summarize'],
    reason: why,
  };
}

/**
 * Picks the task from the graph's inputs and outputs first, and from config.json only where the graph cannot
 * tell (a sequence classifier and an extractive sentence scorer both output [batch, labels]).
 */
export function detectTask(evidence: TaskEvidence): TaskFit {
  const { graphs, config, files = [] } = evidence;
  if (graphs.has('encoder_model') && (graphs.has('decoder_model_merged') || graphs.has('decoder_model'))) return encoderDecoderFit(evidence);
  const main = graphs.get('model') ?? graphs.get('decoder_model_merged') ?? graphs.get('decoder_model') ?? [...graphs.values()][0];
  if (!main) return { task: undefined, runner: 'none', alsoFits: [], reason: 'no ONNX graph found' };
  const inputNames = main.inputs.map((input) => input.name);
  const logits = logitsOf(main);
  if (inputNames.some((name) => name.startsWith(PAST_PREFIX))) return decoderOnlyFit(main, 'it takes past_key_values.* and returns logits per position');
  if (!inputNames.includes('input_ids')) {
    return { task: undefined, runner: 'none', alsoFits: [], reason: `no input_ids input (inputs: ${inputNames.join(', ') || 'none'}); honnx tasks read text` };
  }
  if (!logits) return { task: undefined, runner: 'none', alsoFits: [], reason: `no logits output (outputs: ${main.outputs.map((o) => o.name).join(', ')})` };
  const rank = logits.shape?.length;
  const labels = labelCount(config);
  if (rank === 2) {
    if (config && typeof config.sentence_scoring === 'object') {
      return {
        task: 'summarize',
        runner: 'extractive sentence scorer (one run per document)',
        alsoFits: [],
        reason: 'logits [batch, 2] with a sentence_scoring contract in config.json',
      };
    }
    const fastText = config?.model_type === 'fasttext' || files.includes('fasttext_featurizer.json');
    return {
      task: 'classify',
      runner: fastText ? 'sequence classifier with the fastText hashing featurizer' : 'sequence classifier (tokenizer.json)',
      alsoFits: [],
      reason: `logits [${logits.shape!.join(', ')}]: one score per label for the whole text`,
    };
  }
  if (rank === 3) {
    const last = logits.shape![2];
    const vocabulary = typeof config?.vocab_size === 'number' ? config.vocab_size : undefined;
    const perTokenLabels = labels !== undefined && (last === labels || typeof last === 'string') && last !== vocabulary;
    if (perTokenLabels || /ForTokenClassification$/.test(architecture(config))) {
      return { task: 'extract', runner: 'token classifier (entity spans)', alsoFits: [], reason: `logits [${logits.shape!.join(', ')}]: one label score per token` };
    }
    if (inputNames.includes('position_ids') || /ForCausalLM$|LMHeadModel$/.test(architecture(config)) || (vocabulary !== undefined && last === vocabulary)) {
      return decoderOnlyFit(main, `logits [${logits.shape!.join(', ')}] over the vocabulary at every position`);
    }
    return { task: 'extract', runner: 'token classifier (entity spans)', alsoFits: [], reason: `logits [${logits.shape!.join(', ')}]: one score vector per token` };
  }
  return { task: undefined, runner: 'none', alsoFits: [], reason: `logits of rank ${rank ?? 'unknown'}; honnx reads rank 2 (classify) or 3 (tokens)` };
}
