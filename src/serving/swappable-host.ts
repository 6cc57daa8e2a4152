import { freemem } from 'node:os';
import type { FunctionHost, FunctionRequest } from './function-host.ts';
import type { EvalScore, EvalSet } from './eval-set.ts';
import { scoreEvalSet } from './eval-set.ts';

/** One version of a function's model, loaded into a host of its own. */
export interface VersionSlot {
  /** What the version is called: a digest, tag or hub revision (shown in GET /<function> and /metrics). */
  version: string;
  host: FunctionHost;
  /** Bytes of the version's model files, for the memory check before it loads. */
  modelBytes: number;
}

/** What a version swap did: the version now serving, the one before, its eval score and load time. */
export interface SwapReport {
  version: string;
  previous: string;
  eval?: EvalScore;
  loadMilliseconds?: number;
}

/** A swap that was refused; the version that served before keeps serving. */
export class SwapRefusedError extends Error {
  constructor(
    readonly reason: 'memory' | 'load' | 'eval' | 'busy' | 'signature',
    message: string,
    readonly evalScore?: EvalScore,
  ) {
    super(message);
    this.name = 'SwapRefusedError';
  }
}

export interface SwappableHostOptions {
  /** The function's eval set; a version scoring below its threshold is refused. None: no gate. */
  readEvalSet?: () => Promise<EvalSet | undefined>;
  /** Bytes the process may hold at most while two versions are loaded (old + new); free memory by default. */
  memoryLimitBytes?: number;
  /** How much memory a loaded model takes per byte of its files (bytes + session + arenas), measured on the default models. */
  memoryPerModelByte?: number;
  /** Told of every switch, for logs and metrics. */
  onSwitch?: (report: SwapReport) => void;
}

/** A function host whose model version can change while it serves: new requests go to the new version, running ones finish on the old. */
export interface SwappableHost extends FunctionHost {
  activeVersion(): string;
  previousVersion(): string | undefined;
  /** Loads `slot` beside the active version, checks memory first, gates it on the eval set, switches new requests, drains and frees the old one. */
  activate(slot: VersionSlot, options?: { skipEval?: boolean }): Promise<SwapReport>;
  /** Requests (and streams) still running on versions no longer active. */
  draining(): number;
}

/** Counts a host's requests from submit until the answer (or the stream's last event) is delivered. */
interface Tracked {
  slot: VersionSlot;
  inFlight: number;
  idle?: () => void;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * A function host whose model version can change while it serves. New requests go to the active version; a
 * request keeps the version it started on to its end (streams included), and the old version is released only
 * once its last request is done. A version that fails to load, would not fit in memory or scores below the eval
 * threshold is refused, and the active version keeps serving: the function is never without a model.
 */
export function createSwappableHost(initial: VersionSlot, options: SwappableHostOptions = {}): SwappableHost {
  let active: Tracked = { slot: initial, inFlight: 0 };
  let previous: VersionSlot | undefined;
  const retired = new Set<Tracked>();
  let swapping = false;
  const memoryPerModelByte = options.memoryPerModelByte ?? 3;

  const finishOne = (tracked: Tracked) => {
    tracked.inFlight--;
    if (tracked.inFlight === 0) tracked.idle?.();
  };

  async function* followStream(stream: AsyncIterable<unknown>, tracked: Tracked): AsyncGenerator<unknown> {
    try {
      yield* stream;
    } finally {
      finishOne(tracked);
    }
  }

  async function submitTo(tracked: Tracked, request: FunctionRequest): Promise<unknown> {
    tracked.inFlight++;
    let streaming = false;
    try {
      const answer = await tracked.slot.host.submit(request);
      if (isAsyncIterable(answer)) {
        streaming = true;
        return followStream(answer, tracked);
      }
      return answer;
    } finally {
      if (!streaming) finishOne(tracked);
    }
  }

  async function retire(tracked: Tracked): Promise<void> {
    retired.add(tracked);
    if (tracked.inFlight > 0) await new Promise<void>((resolve) => (tracked.idle = resolve));
    retired.delete(tracked);
    await tracked.slot.host.release();
  }

  const current = () => active.slot.host;
  const host: SwappableHost = {
    get name() {
      return current().name;
    },
    get route() {
      return current().route;
    },
    get definition() {
      return current().definition;
    },
    get endpoint() {
      return current().endpoint;
    },
    get limits() {
      return current().limits;
    },
    get serving() {
      return current().serving;
    },
    get laneCount() {
      return current().laneCount;
    },
    get waitWhileLoading() {
      return current().waitWhileLoading;
    },
    state: () => current().state(),
    failure: () => current().failure(),
    loadMilliseconds: () => current().loadMilliseconds(),
    load: () => current().load(),
    runner: () => current().runner(),
    model: () => current().model(),
    description() {
      const description = current().description();
      return description && { ...description, version: { active: active.slot.version, ...(previous ? { previous: previous.version } : {}) } };
    },
    modelInfo: () => current().modelInfo(),
    submit: (request) => submitTo(active, request),
    queueDepth: () => current().queueDepth() + [...retired].reduce((sum, tracked) => sum + tracked.slot.host.queueDepth(), 0),
    async release() {
      await Promise.allSettled([current().release(), ...[...retired].map((tracked) => tracked.slot.host.release())]);
    },
    activeVersion: () => active.slot.version,
    previousVersion: () => previous?.version,
    draining: () => [...retired].reduce((sum, tracked) => sum + tracked.inFlight, 0),
    async activate(slot, activateOptions = {}) {
      if (swapping) throw new SwapRefusedError('busy', `function ${current().name}: another swap is under way; try again when it ends`);
      swapping = true;
      try {
        const needed = slot.modelBytes * memoryPerModelByte;
        const available = options.memoryLimitBytes !== undefined ? options.memoryLimitBytes - process.memoryUsage.rss() : freemem();
        if (needed > available) {
          throw new SwapRefusedError(
            'memory',
            `function ${current().name}: version ${slot.version} needs about ${Math.round(needed / 1e6)} MB beside the one serving, and ${Math.round(Math.max(0, available) / 1e6)} MB are free; refused, ${active.slot.version} keeps serving`,
          );
        }
        try {
          await slot.host.load();
        } catch (error) {
          await slot.host.release();
          throw new SwapRefusedError('load', `function ${current().name}: version ${slot.version} failed to load (${(error as Error).message}); ${active.slot.version} keeps serving`);
        }
        const set = activateOptions.skipEval ? undefined : await options.readEvalSet?.();
        let score: EvalScore | undefined;
        if (set) {
          score = await scoreEvalSet(set, (request) => slot.host.submit(request));
          if (!score.passed) {
            await slot.host.release();
            throw new SwapRefusedError(
              'eval',
              `function ${current().name}: version ${slot.version} scored ${score.score.toFixed(3)} on its eval set (${score.cases} cases), below the threshold ${score.threshold}; refused, ${active.slot.version} keeps serving`,
              score,
            );
          }
        }
        const old = active;
        active = { slot, inFlight: 0 };
        previous = old.slot;
        const report: SwapReport = { version: slot.version, previous: old.slot.version, eval: score, loadMilliseconds: slot.host.loadMilliseconds() };
        options.onSwitch?.(report);
        void retire(old);
        return report;
      } finally {
        swapping = false;
      }
    },
  };
  return host;
}
