import { createEventChannel, type EventChannel } from '../../common/event-channel.ts';
import type { GenerationEvent, GenerationSequence } from './generation-sequence.ts';
import { DEFAULT_MAX_ROWS, type BatchedDecoding, type GenerativeModel } from './generative-model.ts';
import { generationObserverOf, type GenerationObserver } from './generation-observer.ts';

export { DEFAULT_MAX_ROWS } from './generative-model.ts';

interface Member {
  sequence: GenerationSequence;
  /** Prompt and every chosen token: what the repetition penalty looks at. */
  decoderIds: number[];
  channel: EventChannel<GenerationEvent>;
  signal?: AbortSignal;
}

/**
 * The generations of one model share this loop. Each turn is one run: either the prompts of the requests that
 * joined since the last turn (together), or one token for every sequence in progress (together). A new request
 * therefore starts at the next turn, a finished one leaves at once, and a long generation never holds up short ones.
 */
export interface StepLoop {
  /** Adds a sequence; its events (tokens, then `done`) arrive on the returned iterator. */
  generate(promptIds: readonly number[], sequence: GenerationSequence, options?: { signal?: AbortSignal }): AsyncGenerator<GenerationEvent>;
  /** Sequences being decoded, and those waiting to start. */
  readonly activeCount: number;
}

/** Lets timers and I/O run: setImmediate where the host has it (Node), a zero timeout elsewhere. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

export interface StepLoopOptions {
  maxRows?: number;
  observer?: () => GenerationObserver | undefined;
}

export function createStepLoop(decoding: BatchedDecoding, { maxRows = DEFAULT_MAX_ROWS, observer = () => undefined }: StepLoopOptions = {}): StepLoop {
  const joining: Member[] = [];
  let active: Member[] = [];
  // The batch is the decoding's own: the loop only hands it back, kept, joined or stepped.
  let batch = decoding.empty;
  let running = false;

  const isGone = (member: Member) => member.channel.abandoned || member.signal?.aborted === true;

  /** Chooses each member's next token from its row of scores; returns the indices of the rows still going. */
  const acceptScores = (members: readonly Member[], scores: readonly Float32Array[]): number[] => {
    const going: number[] = [];
    members.forEach((member, row) => {
      try {
        const event = member.sequence.accept(scores[row], member.decoderIds, true);
        member.decoderIds.push(event.id);
        member.channel.push(event);
        if (member.sequence.finishReason === undefined) going.push(row);
        else {
          member.channel.push(member.sequence.finish());
          member.channel.close();
        }
      } catch (error) {
        // One sequence that cannot go on (a grammar, a processor) ends its own request: uncaught, it stopped the loop
        // and left every request in it waiting forever.
        member.channel.fail(error);
      }
    });
    observer()?.tokensGenerated(members.length);
    return going;
  };

  const failAll = (members: readonly Member[], error: unknown) => members.forEach((member) => member.channel.fail(error));

  const dropGone = () => {
    const rows = active.flatMap((member, row) => (isGone(member) ? [] : [row]));
    if (rows.length !== active.length) {
      for (const member of active) if (isGone(member)) member.channel.fail(member.signal?.reason ?? new Error('generation abandoned'));
      batch = decoding.keep(batch, rows);
      active = rows.map((row) => active[row]);
    }
    for (let index = joining.length - 1; index >= 0; index--) {
      if (!isGone(joining[index])) continue;
      joining[index].channel.fail(joining[index].signal?.reason ?? new Error('generation abandoned'));
      joining.splice(index, 1);
    }
  };

  const turn = async () => {
    dropGone();
    const started = performance.now();
    if (joining.length > 0 && active.length < maxRows) {
      const joiners = joining.splice(0, maxRows - active.length);
      let result;
      try {
        // A member that has not joined yet holds only its prompt.
        result = await decoding.prefill(joiners.map((member) => member.decoderIds));
      } catch (error) {
        failAll(joiners, error);
        return;
      }
      observer()?.runCompleted(joiners.length, performance.now() - started);
      const going = acceptScores(joiners, result.scores);
      batch = decoding.join(batch, decoding.keep(result.batch, going));
      active.push(...going.map((row) => joiners[row]));
      return;
    }
    if (active.length === 0) return;
    let result;
    try {
      result = await decoding.step(batch, active.map((member) => member.decoderIds[member.decoderIds.length - 1]));
    } catch (error) {
      failAll(active, error);
      active = [];
      batch = decoding.empty;
      return;
    }
    observer()?.runCompleted(active.length, performance.now() - started);
    const going = acceptScores(active, result.scores);
    batch = decoding.keep(result.batch, going);
    active = going.map((row) => active[row]);
  };

  const drive = async () => {
    running = true;
    try {
      while (active.length > 0 || joining.length > 0) {
        await turn();
        // WASM engines run synchronously behind a resolved promise: without a real turn of the event loop here,
        // timers, aborts and new requests would wait for the whole batch to finish.
        await yieldToEventLoop();
      }
    } finally {
      running = false;
    }
  };

  return {
    get activeCount() {
      return active.length + joining.length;
    },
    generate(promptIds, sequence, options = {}) {
      const channel = createEventChannel<GenerationEvent>();
      if (sequence.finishReason !== undefined) {
        // No room for a single token: done before any run.
        channel.push(sequence.finish());
        channel.close();
        return channel.events();
      }
      const { signal } = options;
      // An aborted request ends its reader at once; its row leaves the batch at the next turn.
      signal?.addEventListener('abort', () => channel.fail(signal.reason), { once: true });
      joining.push({ sequence, decoderIds: [...promptIds], channel, signal });
      if (!running) void drive();
      return channel.events();
    },
  };
}

const loops = new WeakMap<GenerativeModel, StepLoop>();

/**
 * Cloudflare Workers give each request its own context, whose timers end with its answer: a loop started by one
 * request would carry on another's generation in a context that may end first. There, every generation runs alone.
 */
const isWorkersRuntime = typeof navigator !== 'undefined' && (navigator as { userAgent?: string }).userAgent === 'Cloudflare-Workers';

/** The step loop every generation on `model` shares, or undefined where the model cannot decode in batches (or on Workers). */
export function sharedStepLoop(model: GenerativeModel): StepLoop | undefined {
  if (!model.batched || isWorkersRuntime) return undefined;
  let loop = loops.get(model);
  if (!loop) loops.set(model, (loop = createStepLoop(model.batched, { maxRows: model.batched.maxRows, observer: () => generationObserverOf(model) })));
  return loop;
}
