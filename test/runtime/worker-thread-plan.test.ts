import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { planWorkerThreads } from '../../src/runtime/node/worker-lanes.ts';

describe('worker threads per function', () => {
  it('gives a small model a session per worker thread, one intra-op thread each', () => {
    expect(planWorkerThreads(classifyEndpoint, { count: 4 })).toEqual({ count: 4, threads: 1 });
  });

  it('serves a language model from one session per process, with every core on its runs', () => {
    expect(planWorkerThreads(generateEndpoint, { count: 4 })).toEqual({ count: 1, threads: availableParallelism() });
    expect(planWorkerThreads(generateEndpoint, { count: 4, threads: 3 })).toEqual({ count: 1, threads: 3 });
  });
});
