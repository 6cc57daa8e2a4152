import { describe, expect, it, vi } from 'vitest';
import { HttpError, toHttpError } from '../../src/http/errors.ts';
import { ServingError } from '../../src/serving/serving-error.ts';
import type { BatchedAnswers } from '../../src/spec/task-endpoint.ts';
import { measureTextInputs } from '../../src/serving/batch-selection.ts';
import { createFunctionScheduler, type FunctionSchedulerOptions } from '../../src/serving/function-scheduler.ts';
import type { Lane } from '../../src/serving/lane.ts';
import type { ServingEvents } from '../../src/spec/serving-events.ts';
import { resolveServingSettings, type ServingOptions } from '../../src/spec/serving-options.ts';
import type { TaskCall } from '../../src/spec/task-call.ts';
import { InputError } from '../../src/tasks/input-error.ts';

/** A lane whose runs finish only when the test says so; it records every batch and request it was given. */
function createGatedLane() {
  const batches: string[][] = [];
  const alone: string[] = [];
  const pending: (() => void)[] = [];
  const lane: Lane = {
    load: async () => ({ description: {}, model: { variant: 'fp32', location: 'test', engine: 'test' } }),
    answerBatch(calls) {
      batches.push(calls.map((call) => call.inputs as string));
      return new Promise((resolve, reject) =>
        pending.push(() => {
          if (calls.some((call) => call.inputs === 'crash')) return reject(new Error('the session failed'));
          const answers: BatchedAnswers<unknown> = calls.map((call) =>
            call.inputs === 'bad' ? { ok: false, error: new InputError('too_large', 'too long') } : { ok: true, value: `answer to ${call.inputs}` },
          );
          resolve({ answers, milliseconds: 2 });
        }),
      );
    },
    answer(call: TaskCall, signal) {
      alone.push(call.inputs as string);
      return new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
        pending.push(() => resolve(`answer to ${call.inputs}`));
      });
    },
    release: async () => {},
  };
  /** Lets the oldest unfinished run finish, and waits for the scheduler to react. */
  const finishOne = async () => {
    await turnOfEventLoop();
    pending.shift()?.();
    await turnOfEventLoop();
  };
  return { lane, batches, alone, finishOne };
}

/** The scheduler starts each run from its request's own continuation: a microtask after it decides. */
const turnOfEventLoop = () => new Promise((resolve) => setTimeout(resolve, 0));

function recordEvents() {
  const log: string[] = [];
  const events: ServingEvents = {
    queueDepthChanged: (name, depth) => log.push(`depth ${depth}`),
    requestDequeued: () => log.push('dequeued'),
    batchCompleted: (name, size) => log.push(`batch ${size}`),
    tokensGenerated: (name, count) => log.push(`tokens ${count}`),
    modelLoaded: () => log.push('loaded'),
    requestRejected: (name, reason) => log.push(`rejected ${reason}`),
  };
  return { log, events };
}

function createScheduler(lanes: Lane[], serving: ServingOptions, extra: Partial<FunctionSchedulerOptions> = {}) {
  const settings = resolveServingSettings({ batching: { maxBatchSize: 8 } }, serving);
  const { log, events } = recordEvents();
  const scheduler = createFunctionScheduler({
    functionName: 'test',
    lanes,
    settings,
    batches: settings.batching !== undefined,
    reportsRuns: false,
    // One "token" per character, so that tests pick lengths directly.
    measure: (inputs) => measureTextInputs(inputs, (text) => text.length),
    events,
    ...extra,
  });
  return { scheduler, log };
}

const call = (inputs: string): TaskCall => ({ inputs, parameters: {}, stream: false });
const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('the function scheduler', () => {
  it('runs a lone request at once, and gathers requests that arrive while the lane is busy into batches of similar length', async () => {
    const { lane, batches, finishOne } = createGatedLane();
    const { scheduler, log } = createScheduler([lane], {});
    const first = scheduler.submit(call('aaaa'));
    await turnOfEventLoop();
    expect(batches).toEqual([['aaaa']]);
    const waiting = ['bbbbbbbbbbbbbbbbbbbb', 'cccc', 'dddddddddddddddddddd', 'eeee'].map((text) => scheduler.submit(call(text)));
    expect(scheduler.queueDepth()).toBe(4);
    await finishOne();
    expect(await first).toBe('answer to aaaa');
    // The oldest waiting request leads; the two short ones would pad it too much and wait for a run of their own.
    expect(batches[1]).toEqual(['bbbbbbbbbbbbbbbbbbbb', 'dddddddddddddddddddd']);
    await finishOne();
    expect(batches[2]).toEqual(['cccc', 'eeee']);
    await finishOne();
    expect(await Promise.all(waiting)).toEqual(['bbbbbbbbbbbbbbbbbbbb', 'cccc', 'dddddddddddddddddddd', 'eeee'].map((text) => `answer to ${text}`));
    expect(log.filter((entry) => entry.startsWith('batch'))).toEqual(['batch 1', 'batch 2', 'batch 2']);
    expect(log.filter((entry) => entry === 'dequeued')).toHaveLength(5);
    expect(log.filter((entry) => entry.startsWith('depth')).at(-1)).toBe('depth 0');
  });

  it('fails only the request with bad input, and only the batch whose run failed', async () => {
    const { lane, batches, finishOne } = createGatedLane();
    const { scheduler } = createScheduler([lane], {});
    const blocker = scheduler.submit(call('zzzz'));
    const batch = ['good', 'bad', 'fine'].map((text) => settle(scheduler.submit(call(text))));
    await finishOne();
    await finishOne();
    expect(batches[1]).toEqual(['good', 'bad', 'fine']);
    const [good, bad, fine] = await Promise.all(batch);
    expect(good).toEqual({ value: 'answer to good' });
    expect((bad as { error: unknown }).error).toBeInstanceOf(InputError);
    expect(fine).toEqual({ value: 'answer to fine' });
    await blocker;

    const first = scheduler.submit(call('wait'));
    const crashed = ['crash', 'with'].map((text) => settle(scheduler.submit(call(text))));
    await finishOne();
    await finishOne();
    for (const outcome of await Promise.all(crashed)) expect((outcome as { error: Error }).error.message).toBe('the session failed');
    await first;
    // The function keeps serving.
    const after = scheduler.submit(call('next'));
    await finishOne();
    expect(await after).toBe('answer to next');
  });

  it('answers 429 with Retry-After at once when the queue is full', async () => {
    const { lane, finishOne } = createGatedLane();
    const { scheduler, log } = createScheduler([lane], { maxQueuedRequests: 2 });
    const accepted = ['a', 'b', 'c'].map((text) => scheduler.submit(call(text)));
    const refused = await settle(scheduler.submit(call('d')));
    // The scheduler names the condition; the HTTP layer's one mapping makes it a status.
    expect((refused as { error: ServingError }).error.kind).toBe('queue_full');
    const error = toHttpError((refused as { error: unknown }).error);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(429);
    expect(Number(error.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(log).toContain('rejected queue_full');
    await finishOne();
    await finishOne();
    expect(await Promise.all(accepted)).toHaveLength(3);
  });

  it('answers 504 when a request times out, and never runs a request that timed out while queued', async () => {
    const { lane, batches, finishOne } = createGatedLane();
    const { scheduler, log } = createScheduler([lane], { timeoutMilliseconds: 20 });
    const running = settle(scheduler.submit(call('runs')));
    const queued = settle(scheduler.submit(call('queued')));
    const [ranLate, neverRan] = await Promise.all([running, queued]);
    for (const outcome of [ranLate, neverRan]) {
      expect(toHttpError((outcome as { error: unknown }).error).status).toBe(504);
    }
    expect(scheduler.queueDepth()).toBe(0);
    expect(log.filter((entry) => entry === 'rejected timeout')).toHaveLength(2);
    // The run that had started finishes; its late answer is dropped, and the timed-out request is not run after it.
    await finishOne();
    expect(batches).toEqual([['runs']]);
  });

  it('drops a request whose client left, queued or running', async () => {
    const unbatched = createGatedLane();
    const { scheduler } = createScheduler([unbatched.lane], { batching: false });
    const leaving = new AbortController();
    const running = settle(scheduler.submit(call('a'), () => leaving.signal));
    leaving.abort();
    expect(toHttpError(((await running) as { error: unknown }).error).status).toBe(499);
    expect(unbatched.alone).toEqual(['a']);

    const { lane, batches, finishOne } = createGatedLane();
    const { scheduler: batched } = createScheduler([lane], {});
    const first = batched.submit(call('first'));
    const gone = new AbortController();
    const queued = settle(batched.submit(call('gone'), () => gone.signal));
    gone.abort();
    await queued;
    await finishOne();
    await first;
    expect(batches).toEqual([['first']]);
  });

  it('without batching, sends requests alone, several to a lane at a time, spread over the lanes', async () => {
    const lanes = [createGatedLane(), createGatedLane()];
    const { scheduler } = createScheduler(
      lanes.map(({ lane }) => lane),
      { batching: false },
    );
    const answers = Array.from({ length: 20 }, (_, index) => scheduler.submit(call(`r${index}`)));
    await turnOfEventLoop();
    // 8 in hand per lane, the rest queued.
    expect(lanes.map(({ alone }) => alone.length)).toEqual([8, 8]);
    expect(scheduler.queueDepth()).toBe(4);
    while (lanes.some(({ alone }) => alone.length > 0) && scheduler.runningCount() > 0) {
      for (const { finishOne } of lanes) await finishOne();
    }
    expect(await Promise.all(answers)).toHaveLength(20);
    expect(lanes.every(({ batches }) => batches.length === 0)).toBe(true);
  });

  it('fills one lane before the next with requests that share runs there (generation)', async () => {
    const lanes = [createGatedLane(), createGatedLane()];
    const { scheduler } = createScheduler(
      lanes.map(({ lane }) => lane),
      { batching: { maxBatchSize: 4 } },
      { batches: false },
    );
    const answers = Array.from({ length: 6 }, (_, index) => scheduler.submit(call(`g${index}`)));
    await turnOfEventLoop();
    expect(lanes.map(({ alone }) => alone.length)).toEqual([4, 2]);
    for (let round = 0; round < 4; round++) for (const { finishOne } of lanes) await finishOne();
    expect(await Promise.all(answers)).toHaveLength(6);
  });

  it('waits up to maxWaitMilliseconds for company while the lane is free', async () => {
    const { lane, batches, finishOne } = createGatedLane();
    const { scheduler } = createScheduler([lane], { batching: { maxBatchSize: 3, maxWaitMilliseconds: 30 } });
    const answers = [scheduler.submit(call('aa'))];
    await turnOfEventLoop();
    expect(batches).toEqual([]);
    answers.push(scheduler.submit(call('bb')));
    answers.push(scheduler.submit(call('cc')));
    // A full batch goes at once.
    await turnOfEventLoop();
    expect(batches).toEqual([['aa', 'bb', 'cc']]);
    await finishOne();
    // The lone request's wait runs on a fake clock: 30 ms of it pass at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      answers.push(scheduler.submit(call('dd')));
      await vi.advanceTimersByTimeAsync(30);
    } finally {
      vi.useRealTimers();
    }
    expect(batches[1]).toEqual(['dd']);
    await finishOne();
    expect(await Promise.all(answers)).toHaveLength(4);
  });

  it('sends a lone request when its wait timer fires, even if the clock says the wait is not quite over', async () => {
    // Node's timers count from the event loop's cached clock and can fire a fraction of a millisecond early against
    // performance.now(); faking setTimeout alone makes that gap the whole wait.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { lane, batches, finishOne } = createGatedLane();
      const { scheduler } = createScheduler([lane], { batching: { maxBatchSize: 3, maxWaitMilliseconds: 30 } });
      const answer = scheduler.submit(call('solo'));
      await vi.advanceTimersByTimeAsync(29);
      expect(batches).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([['solo']]);
      const finished = finishOne();
      await vi.advanceTimersByTimeAsync(1);
      await finished;
      expect(await answer).toBe('answer to solo');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('serving settings', () => {
  it('refuse a time-out or a batching wait longer than a timer can hold, which Node would fire after 1 ms', () => {
    const thirtyDays = 30 * 24 * 3600 * 1000;
    expect(() => resolveServingSettings(undefined, { timeoutMilliseconds: thirtyDays })).toThrow(/timeoutMilliseconds must be at most 2147483647/);
    expect(() => resolveServingSettings(undefined, { batching: { maxWaitMilliseconds: thirtyDays } })).toThrow(/maxWaitMilliseconds must be at most/);
    expect(resolveServingSettings(undefined, { timeoutMilliseconds: 2 ** 31 - 1 }).timeoutMilliseconds).toBe(2 ** 31 - 1);
  });
});
