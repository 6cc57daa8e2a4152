import type { EngineSession } from '../../engine/engine.ts';
import { onnxPath, requireTokenizer, type ModelBundle, type ModelConfig } from '../../models/model-bundle.ts';
import { readChatTemplate } from '../../text/chat-template.ts';
import type { TextTokenizer } from '../../text/tokenizer.ts';
import { createDecoderOnlyModel, DEFAULT_PREFILL_CHUNK_TOKENS } from './decoder-only-model.ts';
import { planGenerationMemory, readAvailableMemory } from './generation-memory.ts';
import { createEncoderDecoderModel } from './encoder-decoder-model.ts';
import { DEFAULT_MAX_ROWS, type GenerativeModel } from './generative-model.ts';
import { readGenerationDefaults, type GenerationDefaults } from './generation-options.ts';

/** A generative model with everything needed to turn prompts into text. */
export interface TextGenerator {
  readonly name: string;
  readonly model: GenerativeModel;
  readonly tokenizer: TextTokenizer;
  readonly config: ModelConfig;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly defaults: GenerationDefaults;
  readonly chatTemplate?: string;
  /** Fed as the prompt when a prompt encodes to no tokens at all (GPT-2 adds no BOS of its own). */
  readonly bosTokenId?: number;
  /** BART-style models must start their answer with this token (`forced_bos_token_id`). */
  readonly forcedBosTokenId?: number;
}

function readInteger(...sources: (Record<string, unknown> | undefined)[]): (key: string) => number | undefined {
  return (key) => {
    for (const source of sources) {
      const value = source?.[key];
      if (typeof value === 'number' && Number.isInteger(value)) return value;
    }
    return undefined;
  };
}

async function hasGraph(model: ModelBundle, graph: string): Promise<boolean> {
  return model.files.has(model.graphPath(graph));
}

export async function isEncoderDecoder(model: ModelBundle): Promise<boolean> {
  return model.config.is_encoder_decoder === true || (await hasGraph(model, 'encoder_model'));
}

/** Bytes of a graph and its external data (`<file>_data`, as optimum writes it past 2 GB), where the files can say. */
async function readGraphBytes(model: ModelBundle, path: string): Promise<number | undefined> {
  if (!model.files.size) return undefined;
  const sizes = await Promise.all([path, `${path}_data`].map((file) => model.files.size!(file)));
  return sizes[0] === undefined ? undefined : sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
}

/** How large a text generator may make its model's memory: the tokens one sequence holds, the bytes it may use. */
export interface TextGeneratorOptions {
  /** Tokens one sequence may hold (the function's prompt plus new-token limits); the model's context by default. */
  contextTokens?: number;
  /** Memory this model may use; HONNX_MEMORY_BUDGET or the host's available memory by default (no check where neither is known). */
  availableBytes?: number;
}

async function openDecoderOnly(model: ModelBundle, maxSequenceLength: number, options: TextGeneratorOptions): Promise<GenerativeModel> {
  // Optimum names a causal LM `model.onnx` (current) or `decoder_model_merged.onnx` / `decoder_model.onnx` (older).
  for (const graph of ['model', 'decoder_model_merged', 'decoder_model']) {
    if (!(await hasGraph(model, graph))) continue;
    const maxRows = await checkMemory(model, model.graphPath(graph), maxSequenceLength, options);
    // Optimum's exports compute logits for every prompt position; the decoder feeds logits_to_keep (1) where the
    // graph has it, and on Node the engine adds it. On Node their attention also becomes GroupQueryAttention, which
    // does not copy the cache for every grouped head each step.
    const session = await model.openSession(graph, { logitsToKeep: true, groupQueryAttention: true }).catch((error: Error) => {
      // ONNX Runtime names the operator or type it has no kernel for; say which model and file it was.
      throw new Error(`model ${model.name}: ${model.graphPath(graph)} cannot be loaded: ${error.message}`);
    });
    try {
      return createDecoderOnlyModel(session, { config: model.config, maxSequenceLength, maxRows });
    } catch (error) {
      await session.release();
      throw new Error(`model ${model.name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`model ${model.name} has no ${model.graphPath('model')} (looked in ${model.files.location})`);
}

/** The memory check before a session is opened; returns how many sequences the step loop may decode together. */
async function checkMemory(model: ModelBundle, path: string, maxSequenceLength: number, options: TextGeneratorOptions): Promise<number | undefined> {
  const modelBytes = await readGraphBytes(model, path);
  const availableBytes = options.availableBytes ?? readAvailableMemory();
  if (modelBytes === undefined || availableBytes === undefined) return undefined;
  const halfPrecision = model.variant === 'fp16' || model.variant === 'q4f16';
  const vocabulary = typeof model.config.vocab_size === 'number' ? model.config.vocab_size : 0;
  const plan = planGenerationMemory({
    modelName: model.name,
    modelBytes,
    config: model.config,
    cacheElementBytes: halfPrecision ? 2 : 4,
    contextTokens: Math.min(maxSequenceLength, options.contextTokens ?? maxSequenceLength),
    maxRows: DEFAULT_MAX_ROWS,
    availableBytes,
    // A prefill chunk's logits, and their float32 copy for fp16 models.
    logitsBytes: DEFAULT_PREFILL_CHUNK_TOKENS * vocabulary * (halfPrecision ? 2 : 4) + vocabulary * 4,
  });
  return plan.rows;
}

async function openEncoderDecoder(model: ModelBundle, tokenizer: TextTokenizer, decoderStartTokenId: number, maxSequenceLength: number) {
  const opened: EngineSession[] = [];
  const open = async (graph: string) => {
    const session = await model.openSession(graph);
    opened.push(session);
    return session;
  };
  try {
    const encoder = await open('encoder_model');
    const merged = await hasGraph(model, 'decoder_model_merged');
    const decoder = await open(merged ? 'decoder_model_merged' : 'decoder_model');
    const decoderWithPast = !merged && (await hasGraph(model, 'decoder_with_past_model')) ? await open('decoder_with_past_model') : undefined;
    return createEncoderDecoderModel(
      { encoder, decoder, decoderWithPast },
      { config: model.config, decoderStartTokenId, maxInputTokens: tokenizer.modelMaxLength, maxSequenceLength },
    );
  } catch (error) {
    await Promise.all(opened.map((session) => session.release()));
    throw new Error(`model ${model.name}: ${(error as Error).message}`);
  }
}

/** The chat template from tokenizer_config.json or, in newer exports, the `chat_template.jinja` file. */
async function loadChatTemplate(model: ModelBundle): Promise<string | undefined> {
  const file = (await model.files.has('chat_template.jinja')) ? await model.files.readText('chat_template.jinja') : undefined;
  return readChatTemplate(model.tokenizerConfig, file);
}

/**
 * Opens a causal LM (`onnx/model.onnx`) or an encoder-decoder (`onnx/encoder_model.onnx` + decoder graphs)
 * and reads its generation defaults, special ids and chat template.
 */
export async function createTextGenerator(model: ModelBundle, options: TextGeneratorOptions = {}): Promise<TextGenerator> {
  const tokenizer = requireTokenizer(model);
  const read = readInteger(model.generationConfig, model.config);
  const positions = readInteger(model.config)('max_position_embeddings') ?? readInteger(model.config)('n_positions');
  // A genai build can be made for a shorter context than the checkpoint's (its rotary caches end there).
  const genaiContext = model.genaiConfig?.model.context_length;
  const maxSequenceLength = Math.min(positions ?? tokenizer.modelMaxLength, genaiContext ?? Infinity);
  const encoderDecoder = await isEncoderDecoder(model);
  let generative: GenerativeModel;
  if (encoderDecoder) {
    const decoderStartTokenId = read('decoder_start_token_id') ?? read('pad_token_id') ?? tokenizer.specialIds.pad;
    if (decoderStartTokenId === undefined) throw new Error(`model ${model.name} declares no decoder_start_token_id`);
    generative = await openEncoderDecoder(model, tokenizer, decoderStartTokenId, maxSequenceLength);
  } else {
    generative = await openDecoderOnly(model, maxSequenceLength, options);
  }
  return {
    name: model.name,
    model: generative,
    tokenizer,
    config: model.config,
    tokenizerConfig: model.tokenizerConfig,
    defaults: readGenerationDefaults(model.generationConfig, model.config, tokenizer.specialIds.eos),
    chatTemplate: await loadChatTemplate(model),
    bosTokenId: read('bos_token_id') ?? tokenizer.specialIds.bos,
    forcedBosTokenId: encoderDecoder ? read('forced_bos_token_id') : undefined,
  };
}
