import { describe, expect, it, vi } from 'vitest';
import type { Engine, EngineSession } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { postJson } from '../support/requests.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { transports } from '../support/transports.ts';

/**
 * onnxruntime-node, except that after `failNextBatch()` the first run carrying more than one input throws, as a
 * session hitting a bad state would. Aiming at a real batch shows the failure stays inside the requests batched together.
 */
function createFailingEngine() {
  const inner = createNodeEngine({ threads: 1 });
  let armed = false;
  /** While armed, a run of one input waits until this says enough requests have queued behind it to form a batch. */
  let batchQueued = () => true;
  const failedBatchSizes: number[] = [];
  const engine: Engine = {
    name: inner.name,
    acceptsPaths: inner.acceptsPaths,
    async createSession(model, options): Promise<EngineSession> {
      const session = await inner.createSession(model, options);
      return {
        inputs: session.inputs,
        outputs: session.outputs,
        executionProvider: session.executionProvider,
        release: () => session.release(),
        async run(feeds, outputNames) {
          if (armed && Object.values(feeds)[0].dims[0] > 1) {
            armed = false;
            failedBatchSizes.push(Object.values(feeds)[0].dims[0]);
            throw new Error('injected fault: session.run failed');
          }
          // While armed, a run held until requests arriving over sockets have queued up behind it, to form a batch.
          if (armed) await vi.waitFor(() => expect(batchQueued()).toBe(true), { timeout: 60_000, interval: 2 });
          return session.run(feeds, outputNames);
        },
      };
    },
  };
  const failNextBatch = (queued: () => boolean) => {
    batchQueued = queued;
    armed = true;
  };
  return { engine, failedBatchSizes, failNextBatch };
}

const sentiment = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini' });
const CONCURRENT = 24;

describe.each(transports)('a session that throws mid-batch ($name)', (transport) => {
  it("answers 500 to that batch's requests only, and the function keeps serving", async () => {
    const { engine, failedBatchSizes, failNextBatch } = createFailingEngine();
    const host = createFunctionHost('classify', sentiment.definition, () => loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), engine));
    await host.load();
    const { send, stop } = await transport.start(createHonnxApp({ functions: [{ fn: sentiment, host }] }).fetch);
    try {
      // The first request runs alone on the idle model; those queued behind it are batched, and one such run fails.
      failNextBatch(() => host.queueDepth() >= 2);
      const texts = Array.from({ length: CONCURRENT }, (_, index) => (index % 2 === 0 ? `I love this ${index}` : `I hate this ${index}`));
      const responses = await Promise.all(texts.map((text) => send('/classify', postJson({ inputs: text }))));
      const bodies = await Promise.all(responses.map((response) => response.json() as Promise<unknown>));

      expect(failedBatchSizes).toHaveLength(1);
      expect(failedBatchSizes[0]).toBeGreaterThan(1);
      const failed = responses.flatMap((response, index) => (response.status === 500 ? [index] : []));
      const answered = responses.flatMap((response, index) => (response.status === 200 ? [index] : []));
      expect(failed.length).toBe(failedBatchSizes[0]);
      expect(failed.length + answered.length).toBe(CONCURRENT);
      for (const index of failed) {
        expect(responses[index].headers.get('content-type')).toMatch(/application\/json/);
        expect((bodies[index] as { error: { code: string } }).error.code).toBe('internal_error');
      }
      // Everyone outside the failing batch got the right answer for their own text.
      expect(answered.length).toBeGreaterThan(0);
      for (const index of answered) {
        expect((bodies[index] as { label: string }[][])[0][0].label).toBe(index % 2 === 0 ? 'POSITIVE' : 'NEGATIVE');
      }

      const later = await Promise.all(['I love this', 'I hate this'].map((text) => send('/classify', postJson({ inputs: text }))));
      expect(later.map((response) => response.status)).toEqual([200, 200]);
      const labels = await Promise.all(later.map(async (response) => ((await response.json()) as { label: string }[][])[0][0].label));
      expect(labels).toEqual(['POSITIVE', 'NEGATIVE']);
      expect(host.state()).toBe('ready');
    } finally {
      await stop();
      await host.release();
    }
  });
});
