import type { EngineSession } from '../../engine/engine.ts';
import { onnxPath, requireTokenizer, type ModelBundle, type ModelConfig } from '../../models/model-bundle.ts';
import { readChatTemplate } from '../../text/chat-template.ts';
import type { TextTokenizer } from '../../text/tokenizer.ts';
import { createDecoderOnlyModel } from './decoder-only-model.ts';
import { createEncoderDecoderModel } from './encoder-decoder-model.ts';
import type { GenerativeModel } from './generative-model.ts';
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
  return model.files.has(onnxPath(graph, model.variant));
}

export async function isEncoderDecoder(model: ModelBundle): Promise<boolean> {
  return model.config.is_encoder_decoder === true || (await hasGraph(model, 'encoder_model'));
}

async function openDecoderOnly(model: ModelBundle, maxSequenceLength: number): Promise<GenerativeModel> {
  // Optimum names a causal LM `model.onnx` (current) or `decoder_model_merged.onnx` / `decoder_model.onnx` (older).
  for (const graph of ['model', 'decoder_model_merged', 'decoder_model']) {
    if (!(await hasGraph(model, graph))) continue;
    const session = await model.openSession(graph);
    try {
      return createDecoderOnlyModel(session, { config: model.config, maxSequenceLength });
    } catch (error) {
      await session.release();
      throw new Error(`model ${model.name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`model ${model.name} has no ${onnxPath('model', model.variant)} (looked in ${model.files.location})`);
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
export async function createTextGenerator(model: ModelBundle): Promise<TextGenerator> {
  const tokenizer = requireTokenizer(model);
  const read = readInteger(model.generationConfig, model.config);
  const positions = readInteger(model.config)('max_position_embeddings') ?? readInteger(model.config)('n_positions');
  const maxSequenceLength = positions ?? tokenizer.modelMaxLength;
  const encoderDecoder = await isEncoderDecoder(model);
  let generative: GenerativeModel;
  if (encoderDecoder) {
    const decoderStartTokenId = read('decoder_start_token_id') ?? read('pad_token_id') ?? tokenizer.specialIds.pad;
    if (decoderStartTokenId === undefined) throw new Error(`model ${model.name} declares no decoder_start_token_id`);
    generative = await openEncoderDecoder(model, tokenizer, decoderStartTokenId, maxSequenceLength);
  } else {
    generative = await openDecoderOnly(model, maxSequenceLength);
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
