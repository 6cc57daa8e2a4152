import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createWorkerLane } from '../../src/runtime/node/worker-lane.ts';
import { ServingError } from '../../src/serving/serving-error.ts';
import type { WorkerSetup } from '../../src/runtime/node/worker-protocol.ts';

const heldAnswers = fileURLToPath(new URL('../fixtures/workers/held-answers.mjs', import.meta.url));
const held = new Int32Array(new SharedArrayBuffer(4));
const setup = { functionName: 'held', held } as unknown as WorkerSetup;
const call = (inputs: string) => ({ inputs, parameters: {}, stream: false });

describe('a worker lane', () => {
  it('settles a request whose signal aborted only once its thread is done with it, so the seat it holds stays taken', async () => {
    const lane = createWorkerLane({ setup, bundle: heldAnswers, observer: { runCompleted() {}, tokensGenerated() {} } });
    await lane.load();
    try {
      const controller = new AbortController();
      let settled = false;
      const abandoned = lane.answer(call('abandoned'), controller.signal).finally(() => (settled = true));
      abandoned.catch(() => undefined);
      // Aborted once the thread has the request (a request aborted before it is sent settles at once).
      await vi.waitFor(() => expect(Atomics.load(held, 0)).toBe(1));
      controller.abort(new Error('timed out'));
      // A lane that settled on the abort itself would have done so within this turn: its thread is held and sends nothing.
      await new Promise((resolve) => setImmediate(resolve));
      // The thread still works on it: the scheduler must not give its seat to another request yet.
      expect(settled).toBe(false);
      const next = lane.answer(call('go'), new AbortController().signal);
      await expect(abandoned).rejects.toThrow('timed out');
      expect(await next).toBe('go');
    } finally {
      await lane.release();
    }
  });

  it('on release, fails what it holds as shutting_down, asks its thread to exit between runs, and starts no other', async () => {
    Atomics.store(held, 0, 0);
    const lane = createWorkerLane({ setup, bundle: heldAnswers, observer: { runCompleted() {}, tokensGenerated() {} } });
    await lane.load();
    const pending = lane.answer(call('held'), new AbortController().signal);
    pending.catch(() => undefined);
    await vi.waitFor(() => expect(Atomics.load(held, 0)).toBe(1));
    await lane.release();
    // The thread heard the close itself: it was not terminated in whatever it was running.
    expect(Atomics.load(held, 0)).toBe(-1);
    const shuttingDown = expect.objectContaining({ kind: 'shutting_down' });
    await expect(pending).rejects.toBeInstanceOf(ServingError);
    await expect(pending).rejects.toEqual(shuttingDown);
    // A request queued behind it is refused, rather than starting a fresh thread while the process exits.
    await expect(lane.answer(call('late'), new AbortController().signal)).rejects.toEqual(shuttingDown);
    await expect(lane.load()).rejects.toEqual(shuttingDown);
    expect(Atomics.load(held, 0)).toBe(-1);
  });
});
