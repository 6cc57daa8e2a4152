import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp, MissingModelsError } from '../../src/runtime/node/create-node-app.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { postJson } from '../support/requests.ts';
import { transports } from '../support/transports.ts';

const sentiment = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini' });

describe.each(transports)('model loading states ($name)', (transport) => {
  it('answers 503 with Retry-After while the model loads, then serves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const host = createFunctionHost('classify', sentiment.definition, async (): Promise<ModelBundle> => {
      await gate;
      return loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), createNodeEngine({ threads: 1 }));
    });
    const loaded = host.load();
    const { send, stop } = await transport.start(createHonnxApp({ functions: [{ fn: sentiment, host }] }).fetch);
    try {
      const early = await send('/classify', postJson({ inputs: 'I love this' }));
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe('model_loading');
      expect((await send('/readyz')).status).toBe(503);
      expect(((await (await send('/classify')).json()) as { state: string }).state).toBe('loading');

      release();
      await loaded;
      expect((await send('/readyz')).status).toBe(200);
      const later = await send('/classify', postJson({ inputs: 'I love this' }));
      expect(later.status).toBe(200);
    } finally {
      await stop();
    }
  });

  it('answers 503 naming the failure when a model cannot load, and keeps serving probes', async () => {
    const host = createFunctionHost('broken', sentiment.definition, async () => {
      throw new Error('onnx/model.onnx is truncated');
    });
    await host.load().catch(() => undefined);
    const { send, stop } = await transport.start(createHonnxApp({ functions: [{ fn: sentiment, host }] }).fetch);
    try {
      const response = await send('/broken', postJson({ inputs: 'hi' }));
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/truncated/);
      expect((await send('/healthz')).status).toBe(200);
    } finally {
      await stop();
    }
  });
});

describe('start-up with a missing model', () => {
  it('refuses to start, naming the model, every folder searched and how to get it', () => {
    const searchPaths = readModelSearchPaths('/nonexistent-project', { HONNX_CACHE: '/nonexistent-cache' });
    const fn = defineFunction({ task: classifyEndpoint, model: 'no-such-model' });
    let thrown: unknown;
    try {
      createNodeApp({ functions: [{ name: 'classify', fn }], engine: createNodeEngine(), searchPaths });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingModelsError);
    const message = (thrown as Error).message;
    expect(message).toContain('no-such-model');
    expect(message).toContain(join('/nonexistent-project/models', 'no-such-model'));
    expect(message).toContain(join('/nonexistent-cache', 'no-such-model'));
    expect(message).toContain('HONNX_MIRROR');
    expect(message).toContain('honnx models pull no-such-model');
  });
});
