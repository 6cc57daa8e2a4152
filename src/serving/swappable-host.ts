import { freemem } from 'node:os';
import type { FunctionHost, FunctionRequest, ServedVersions } from './function-host.ts';
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

/** A canary started (or its share changed): the version taking `percent` of new requests beside the active one. */
export interface CanaryReport {
  canary: string;
  percent: number;
  active: string;
  eval?: EvalScore;
  loadMilliseconds?: number;
}

/** A swap that was refused; the version that served before keeps serving. */
export class SwapRefusedError extends Error {
  constructor(
    /** `busy`: another swap or a canary is under way; `no_canary`: promote or abort with no canary running. */
    readonly reason: 'memory' | 'load' | 'eval' | 'busy' | 'signature' | 'no_canary',
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
  /** Told of every answer (not streams) with the version that gave it, for per-version metrics such as confidence. */
  onAnswered?: (version: string, answer: unknown) => void;
}

/** A function host whose model version can change while it serves: new requests go to the new version, running ones finish on the old. */
export interface SwappableHost extends FunctionHost {
  modelVersions(): ServedVersions;
  activeVersion(): string;
  previousVersion(): string | undefined;
  /** Loads `slot` beside the active version, checks memory first, gates it on the eval set, switches new requests, drains and frees the old one. */
  activate(slot: VersionSlot, options?: { skipEval?: boolean }): Promise<SwapReport>;
  /** Requests (and streams) still running on versions no longer active. */
  draining(): number;
  /**
   * Loads `slot` beside the active version as `activate` does (memory check, load, eval gate), then sends it
   * `percent` of new requests (0 to 100; the same request id always to the same version) until promoted or aborted.
   */
  startCanary(slot: VersionSlot, percent: number, options?: { skipEval?: boolean }): Promise<CanaryReport>;
  /** Changes the share of requests the running canary takes. */
  setCanaryPercent(percent: number): CanaryReport;
  canary(): { version: string; percent: number } | undefined;
  /** The canary becomes the active version (the old one drains and is freed, and is what a rollback returns to). */
  promoteCanary(): SwapReport;
  /** Stops the canary: every new request goes to the active version; the canary's running requests finish, then it is freed. */
  abortCanary(): SwapReport;
}

/** 32-bit FNV-1a: a request id's hash, the same on every run and machine, for a canary's split. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Whether a request goes to the canary: by its id's hash when it has one (a retry meets the same version), else
 * by its position, spread evenly (request n goes when floor((n + 1) p / 100) > floor(n p / 100)).
 */
export function routesToCanary(percent: number, requestId: string | undefined, sequence: number): boolean {
  if (requestId !== undefined) return (hashText(requestId) % 10_000) < percent * 100;
  return Math.floor(((sequence + 1) * percent) / 100) > Math.floor((sequence * percent) / 100);
}

const checkPercent = (percent: number) => {
  if (!(Number.isFinite(percent) && percent >= 0 && percent <= 100)) throw new RangeError(`a canary's percent is a number from 0 to 100 (got ${percent})`);
};

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
  let canary: { tracked: Tracked; percent: number } | undefined;
  let sequence = 0;
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

  /** The version a new request goes to: the active one, or the canary for its share. */
  const chooseFor = (request: FunctionRequest): Tracked => (canary && routesToCanary(canary.percent, request.requestId, sequence++) ? canary.tracked : active);

  async function submitTo(tracked: Tracked, request: FunctionRequest): Promise<unknown> {
    tracked.inFlight++;
    let streaming = false;
    try {
      request.onVersion?.(tracked.slot.version);
      const answer = await tracked.slot.host.submit(request);
      if (isAsyncIterable(answer)) {
        streaming = true;
        return followStream(answer, tracked);
      }
      options.onAnswered?.(tracked.slot.version, answer);
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

  const busy = () => new SwapRefusedError('busy', `function ${current().name}: another swap is under way; try again when it ends`);
  const noCanary = () => new SwapRefusedError('no_canary', `function ${current().name} has no canary running`);
  const canaryRunning = (what: string) =>
    new SwapRefusedError(
      'busy',
      `function ${current().name}: a canary of ${canary!.tracked.slot.version} takes ${canary!.percent}% of requests; promote or abort it before you ${what}`,
    );

  /** One swap at a time: a second one is refused (busy) rather than queued, so that nobody waits on an unknown outcome. */
  async function exclusively<Result>(work: () => Promise<Result>): Promise<Result> {
    if (swapping) throw busy();
    swapping = true;
    try {
      return await work();
    } finally {
      swapping = false;
    }
  }

  /**
   * Makes `slot` ready beside the versions serving: memory first, then load and warm it, then its eval set.
   * Any refusal frees what it loaded and leaves the serving versions as they were.
   */
  async function prepare(slot: VersionSlot, skipEval: boolean): Promise<EvalScore | undefined> {
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
    const set = skipEval ? undefined : await options.readEvalSet?.();
    if (!set) return undefined;
    const score = await scoreEvalSet(set, (request) => slot.host.submit(request));
    if (!score.passed) {
      await slot.host.release();
      throw new SwapRefusedError(
        'eval',
        `function ${current().name}: version ${slot.version} scored ${score.score.toFixed(3)} on its eval set (${score.cases} cases), below the threshold ${score.threshold}; refused, ${active.slot.version} keeps serving`,
        score,
      );
    }
    return score;
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
    description: () => current().description(),
    modelVersions: (): ServedVersions => ({
      active: active.slot.version,
      ...(previous ? { previous: previous.version } : {}),
      ...(canary ? { canary: { version: canary.tracked.slot.version, percent: canary.percent } } : {}),
    }),
    modelInfo: () => current().modelInfo(),
    submit: (request) => submitTo(chooseFor(request), request),
    queueDepth: () =>
      current().queueDepth() + (canary?.tracked.slot.host.queueDepth() ?? 0) + [...retired].reduce((sum, tracked) => sum + tracked.slot.host.queueDepth(), 0),
    async release() {
      await Promise.allSettled([current().release(), ...(canary ? [canary.tracked.slot.host.release()] : []), ...[...retired].map((tracked) => tracked.slot.host.release())]);
    },
    activeVersion: () => active.slot.version,
    previousVersion: () => previous?.version,
    draining: () => [...retired].reduce((sum, tracked) => sum + tracked.inFlight, 0),
    async activate(slot, activateOptions = {}) {
      if (canary) throw canaryRunning('activate another version');
      return exclusively(async () => {
        const score = await prepare(slot, activateOptions.skipEval === true);
        const old = active;
        active = { slot, inFlight: 0 };
        previous = old.slot;
        const report: SwapReport = { version: slot.version, previous: old.slot.version, eval: score, loadMilliseconds: slot.host.loadMilliseconds() };
        options.onSwitch?.(report);
        void retire(old);
        return report;
      });
    },
    async startCanary(slot, percent, canaryOptions = {}) {
      checkPercent(percent);
      if (canary) throw canaryRunning('start another');
      return exclusively(async () => {
        const score = await prepare(slot, canaryOptions.skipEval === true);
        canary = { tracked: { slot, inFlight: 0 }, percent };
        return { ...host.setCanaryPercent(percent), eval: score, loadMilliseconds: slot.host.loadMilliseconds() };
      });
    },
    setCanaryPercent(percent) {
      checkPercent(percent);
      if (!canary) throw noCanary();
      canary.percent = percent;
      return { canary: canary.tracked.slot.version, percent, active: active.slot.version };
    },
    canary: () => canary && { version: canary.tracked.slot.version, percent: canary.percent },
    promoteCanary() {
      if (swapping) throw busy();
      if (!canary) throw noCanary();
      const old = active;
      active = canary.tracked;
      canary = undefined;
      previous = old.slot;
      const report: SwapReport = { version: active.slot.version, previous: old.slot.version };
      options.onSwitch?.(report);
      void retire(old);
      return report;
    },
    abortCanary() {
      if (swapping) throw busy();
      if (!canary) throw noCanary();
      const stopped = canary.tracked;
      canary = undefined;
      void retire(stopped);
      return { version: active.slot.version, previous: stopped.slot.version };
    },
  };
  return host;
}
