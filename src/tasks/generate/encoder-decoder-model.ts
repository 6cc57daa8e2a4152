import type { EngineSession, Feeds, Tensor } from '../../engine/engine.ts';
import type { Decoding, GenerativeModel } from './generative-model.ts';
import { createBranchFlag, createIdsTensor, createOnesMask } from './model-feeds.ts';
import { createEmptyPast, listPastInputs, PAST_PREFIX, pastNameOf, presentNameOf, readEncoderDecoderCacheShape } from './past-key-values.ts';
import { readLastScores } from './read-scores.ts';

/**
 * The graphs of a Hugging Face encoder-decoder export (T5, BART): the encoder, and either one merged decoder
 * (`decoder_model_merged.onnx`, which switches on `use_cache_branch`) or a first-step decoder
 * (`decoder_model.onnx`) with an optional cached one (`decoder_with_past_model.onnx`).
 */
export interface EncoderDecoderSessions {
  encoder: EngineSession;
  decoder: EngineSession;
  decoderWithPast?: EngineSession;
}

export interface EncoderDecoderModelOptions {
  config: Record<string, unknown>;
  decoderStartTokenId: number;
  maxInputTokens: number;
  maxSequenceLength: number;
}

const KNOWN_DECODER_INPUTS = new Set(['input_ids', 'encoder_attention_mask', 'encoder_hidden_states', 'use_cache_branch', 'decoder_attention_mask']);
const KNOWN_ENCODER_INPUTS = new Set(['input_ids', 'attention_mask']);

function checkInputs(session: EngineSession, known: Set<string>, graph: string): void {
  const unknown = session.inputs.map((input) => input.name).filter((name) => !known.has(name) && !name.startsWith(PAST_PREFIX));
  if (unknown.length > 0) throw new Error(`unsupported ${graph} inputs: ${unknown.join(', ')}`);
}

const isCrossAttention = (name: string) => name.includes('.encoder.');

/** The graph that serves cached steps: the merged decoder, or the with-past one. */
function chooseCachedDecoder(sessions: EncoderDecoderSessions): EngineSession | undefined {
  if (listPastInputs(sessions.decoder.inputs).length > 0) return sessions.decoder;
  return sessions.decoderWithPast;
}

/**
 * Cached steps need every cache entry: decoder self-attention entries from the previous step,
 * cross-attention entries from the first step (they depend only on the encoder output, so they never change).
 */
function canCache(first: EngineSession, cached: EngineSession): boolean {
  const firstOutputs = new Set(first.outputs.map((output) => output.name));
  const cachedOutputs = new Set(cached.outputs.map((output) => output.name));
  const pastInputs = listPastInputs(cached.inputs);
  return (
    pastInputs.length > 0 &&
    pastInputs.every((input) => {
      const present = presentNameOf(input.name);
      return isCrossAttention(input.name) ? firstOutputs.has(present) : firstOutputs.has(present) && cachedOutputs.has(present);
    })
  );
}

export function createEncoderDecoderModel(sessions: EncoderDecoderSessions, options: EncoderDecoderModelOptions): GenerativeModel {
  const { encoder, decoder } = sessions;
  checkInputs(encoder, KNOWN_ENCODER_INPUTS, 'encoder');
  checkInputs(decoder, KNOWN_DECODER_INPUTS, 'decoder');
  if (sessions.decoderWithPast) checkInputs(sessions.decoderWithPast, KNOWN_DECODER_INPUTS, 'decoder_with_past');
  const cachedDecoder = chooseCachedDecoder(sessions);
  const hasCache = cachedDecoder !== undefined && canCache(decoder, cachedDecoder);
  const cacheShape = readEncoderDecoderCacheShape(options.config);
  const encoderOutput = encoder.outputs.some((output) => output.name === 'last_hidden_state') ? 'last_hidden_state' : encoder.outputs[0].name;

  const encode = async (promptIds: readonly number[]) => {
    const feeds: Feeds = { input_ids: createIdsTensor(promptIds) };
    if (encoder.inputs.some((input) => input.name === 'attention_mask')) feeds.attention_mask = createOnesMask(promptIds.length);
    const outputs = await encoder.run(feeds, [encoderOutput]);
    return outputs[encoderOutput];
  };

  const runDecoder = async (
    session: EngineSession,
    ids: readonly number[],
    decoderLength: number,
    encoded: { hiddenStates: Tensor; length: number },
    past: Map<string, Tensor> | undefined,
    keepCache: boolean,
  ) => {
    const feeds: Feeds = {};
    for (const input of session.inputs) {
      const name = input.name;
      if (name === 'input_ids') feeds[name] = createIdsTensor(ids);
      else if (name === 'encoder_attention_mask') feeds[name] = createOnesMask(encoded.length);
      else if (name === 'encoder_hidden_states') feeds[name] = encoded.hiddenStates;
      else if (name === 'decoder_attention_mask') feeds[name] = createOnesMask(decoderLength);
      else if (name === 'use_cache_branch') feeds[name] = createBranchFlag(past !== undefined);
      else feeds[name] = past?.get(name) ?? createEmptyPast(input, cacheShape);
    }
    const wanted = keepCache ? session.outputs.map((output) => output.name) : ['logits'];
    return session.run(feeds, wanted);
  };

  return {
    kind: 'encoder-decoder',
    hasCache,
    maxInputTokens: options.maxInputTokens,
    maxSequenceLength: options.maxSequenceLength,
    executionProvider: decoder.executionProvider,
    async start(promptIds, { useCache }): Promise<Decoding> {
      if (promptIds.length === 0) throw new Error('an encoder-decoder model needs at least one input token');
      const encoded = { hiddenStates: await encode(promptIds), length: promptIds.length };
      const ids = [options.decoderStartTokenId];
      const cached = useCache && hasCache;
      let seen = 0;
      let past: Map<string, Tensor> | undefined;
      return {
        ids,
        push: (id) => void ids.push(id),
        async nextScores() {
          const usePast = cached && past !== undefined;
          const session = usePast ? cachedDecoder! : decoder;
          const outputs = await runDecoder(session, usePast ? ids.slice(seen) : ids, ids.length, encoded, usePast ? past : undefined, cached);
          if (cached) {
            // Cross-attention entries come from the first step; later steps return placeholders for them or nothing.
            const next = new Map([...(past ?? [])].filter(([name]) => isCrossAttention(name)));
            for (const [name, tensor] of Object.entries(outputs)) {
              const pastName = pastNameOf(name);
              if (pastName !== undefined && !next.has(pastName)) next.set(pastName, tensor);
            }
            past = next;
            seen = ids.length;
          }
          return readLastScores(outputs.logits);
        },
      };
    },
    async release() {
      await Promise.all([encoder.release(), decoder.release(), sessions.decoderWithPast?.release()]);
    },
  };
}
