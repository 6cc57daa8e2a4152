import { chooseNextToken, type TokenChoice } from './choose-next-token.ts';
import type { ResolvedGenerationOptions } from './generation-options.ts';
import { createIncrementalTextDecoder } from './incremental-text.ts';
import { createRandomSeed, createSeededRandom } from './seeded-random.ts';
import { createOccurrencePenalties } from './occurrence-penalties.ts';
import { createStopStringFilter } from './stop-strings.ts';
import { readTopLogprobs } from './top-logprobs.ts';
import type { TextGenerator } from './text-generator.ts';
import type { StructuredResult } from './token-constraint.ts';
import { createConfidenceTally, type TokenConfidence } from './token-confidence.ts';

/** Why generation stopped: the token limit, the end-of-sequence token or a stop sequence. */
export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** One generated token and the text it adds to the answer (possibly "", while a character or stop string is incomplete). */
export interface TokenEvent {
  kind: 'token';
  id: number;
  text: string;
  /** Present when the generation was asked for log-probabilities (streaming answers are). */
  logprob?: number;
  special: boolean;
  /**
   * With `topLogprobs`: the most likely tokens of this step, best first, each with its text as it would follow the
   * sequence; `logprob` is then the chosen token's under the same (unprocessed) distribution.
   */
  top?: { id: number; text: string; logprob: number }[];
}

/** The last event of every generation. */
export interface DoneEvent {
  kind: 'done';
  /** The answer: the texts of the token events joined, behind the prompt when `returnFullText` was asked. */
  generatedText: string;
  finishReason: FinishReason;
  /** Every generated id, in order, the end-of-sequence token included. */
  tokenIds: number[];
  promptTokens: number;
  /** The seed sampling used (one is drawn when none was given). */
  seed: number;
  /** Present when a grammar constrained the answer: whether it is complete and valid, and its parsed value. */
  structured?: StructuredResult;
  /** With log-probabilities computed (`withLogprobs`): how sure the model was of its tokens. */
  confidence?: TokenConfidence;
}

/** What a stream of generation yields: a token as it is made, then one event saying why it stopped. */
export type GenerationEvent = TokenEvent | DoneEvent;

/**
 * The choices of one generation, apart from how its model runs: it takes each row of next-token scores, picks
 * the token, turns it into text and decides when to stop. A single request's loop and the shared step loop
 * both drive it, so a row of a batch ends exactly as the same request alone would.
 */
export interface GenerationSequence {
  /** Set once generation has ended; the next token event (if any) was already returned. */
  readonly finishReason: FinishReason | undefined;
  /**
   * Picks the next token from this sequence's scores and returns its event. `decoderIds` is what the decoder has
   * seen (for the repetition penalty); the caller feeds the chosen id to the model afterwards.
   */
  accept(scores: Float32Array, decoderIds: readonly number[], scoresAreScratch: boolean): TokenEvent;
  /** The final event; call once `finishReason` is set. */
  finish(): DoneEvent;
}

export interface SequenceSettings {
  promptText: string;
  promptTokens: number;
  /** The decoder's sequence at the start: the prompt (decoder-only) or the start token (encoder-decoder). */
  decoderIds: readonly number[];
  options: ResolvedGenerationOptions;
  /** Compute each token's log-probability (a pass over the vocabulary per token); only streaming shows it. */
  withLogprobs: boolean;
  /**
   * Give each token event its text. Without it (an answer read only at the end) the text is decoded once, at the
   * end, unless stop strings must be watched as the text grows. On by default.
   */
  withTokenTexts?: boolean;
}


export function createGenerationSequence(generator: TextGenerator, settings: SequenceSettings): GenerationSequence {
  const { options, withLogprobs } = settings;
  const seed = options.seed ?? createRandomSeed();
  const random = createSeededRandom(seed);
  const stops = createStopStringFilter(options.stop);
  const deferText = settings.withTokenTexts === false && options.stop.length === 0;
  const decoder = createIncrementalTextDecoder(generator.tokenizer, settings.decoderIds, { deferred: deferText });
  const specialIds = new Set([...options.eosTokenIds, ...Object.values(generator.tokenizer.specialIds)]);
  const endIds = new Set(options.eosTokenIds);
  const limit = Math.min(options.maxNewTokens, generator.model.maxSequenceLength - settings.decoderIds.length);
  const tokenIds: number[] = [];
  // The softmax's buffer, one vocabulary long, reused from step to step instead of allocated per token.
  let scratch: Float64Array | undefined;
  let finishReason: FinishReason | undefined = limit <= 0 ? 'length' : undefined;
  const penalties =
    options.frequencyPenalty !== 0 || options.presencePenalty !== 0 ? [createOccurrencePenalties(options.frequencyPenalty, options.presencePenalty, tokenIds)] : undefined;
  const constraint = options.grammar?.start(options.eosTokenIds);
  const tally = withLogprobs ? createConfidenceTally() : undefined;

  /** The model's forced first token where it has one; end-of-sequence kept out until `minNewTokens`; else the sampler's pick. */
  const choose = (scores: Float32Array, decoderIds: readonly number[], scoresAreScratch: boolean): TokenChoice => {
    if (tokenIds.length === 0 && generator.forcedBosTokenId !== undefined) {
      return withLogprobs ? { id: generator.forcedBosTokenId, logprob: 0 } : { id: generator.forcedBosTokenId };
    }
    const suppressedIds = tokenIds.length < options.minNewTokens ? options.eosTokenIds : [];
    if (options.sampling) scratch ??= new Float64Array(scores.length);
    // The grammar's mask first, then the occurrence penalties (which have nothing to count before the first token).
    const processors = [...(constraint ? [constraint] : []), ...(penalties && tokenIds.length > 0 ? penalties : [])];
    return chooseNextToken(scores, decoderIds, { ...options, suppressedIds, processors }, random, { scoresAreScratch, withLogprob: withLogprobs, scratch });
  };

  /** A token's text where it would follow the sequence: it depends on its neighbour (SentencePiece's leading space). */
  const textAfter = (previous: number | undefined, id: number) => {
    if (previous === undefined) return generator.tokenizer.decode([id]);
    return generator.tokenizer.decode([previous, id]).slice(generator.tokenizer.decode([previous]).length);
  };

  return {
    get finishReason() {
      return finishReason;
    },
    accept(scores, decoderIds, scoresAreScratch) {
      // The step's distribution is read before the choice, which may change a scratch row in place: with top
      // log-probabilities asked, the row is kept and the choice works on a copy.
      const top = options.topLogprobs === undefined ? undefined : readTopLogprobs(scores, options.topLogprobs);
      const forced = tokenIds.length === 0 && generator.forcedBosTokenId !== undefined;
      const choice = choose(scores, decoderIds, scoresAreScratch && top === undefined);
      tokenIds.push(choice.id);
      if (!forced) constraint?.accept(choice.id);
      const isEndToken = endIds.has(choice.id);
      // A finished grammar allows nothing more: the answer ends as at end-of-sequence.
      const ended = isEndToken || constraint?.mustEnd() === true;
      let released = stops.push(isEndToken ? '' : decoder.push(choice.id));
      let text = released.text;
      if (released.stopped) finishReason = 'stop_sequence';
      else if (ended) finishReason = 'eos_token';
      else if (tokenIds.length >= limit) finishReason = 'length';
      if (finishReason === 'eos_token' || finishReason === 'length') {
        // Release what was held back: a character's first bytes, or text that looked like the start of a stop string.
        released = stops.push(decoder.flush());
        text += released.text;
        if (released.stopped) finishReason = 'stop_sequence';
        else text += stops.flush();
      }
      const event: TokenEvent = { kind: 'token', id: choice.id, text, special: specialIds.has(choice.id) };
      if (choice.logprob !== undefined) {
        event.logprob = choice.logprob;
        // Under the distribution the token was chosen from, before `top` replaces the event's with the model's own.
        if (!isEndToken) tally?.add(choice.logprob);
      }
      if (top) {
        const previous = decoderIds.at(-1);
        event.logprob = scores[choice.id] - top.normaliser;
        event.top = top.top.map(({ id, logprob }) => ({ id, text: textAfter(previous, id), logprob }));
      }
      return event;
    },
    finish() {
      const withPrompt = options.returnFullText && generator.model.kind === 'decoder-only';
      const structured = constraint?.result();
      return {
        ...(structured && { structured }),
        ...(tally && { confidence: tally.result() }),
        kind: 'done',
        generatedText: withPrompt ? settings.promptText + stops.text : stops.text,
        finishReason: finishReason ?? 'length',
        tokenIds,
        promptTokens: settings.promptTokens,
        seed,
      };
    },
  };
}
