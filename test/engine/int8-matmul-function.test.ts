import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, SessionOptions } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';

const MODEL = 'qwen3-tiny';

describe("a function's int8MatMul reaches the engine (main-thread lane)", () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-int8-function-'));
  beforeAll(() => synthesizeModel({ preset: 'qwen3-0.6b', variant: 'q4', layers: 2, hiddenSize: 64, outputFolder: join(root, 'models', MODEL) }), 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The options every session of a served function was opened with, and its answer to one request. */
  async function serve(int8MatMul: boolean | undefined) {
    const seen: SessionOptions[] = [];
    const native = createNodeEngine({ threads: 1 });
    const engine: Engine = { ...native, createSession: (model, options) => (seen.push(options ?? {}), native.createSession(model, options)) };
    const fn = defineFunction({ task: generateEndpoint, model: MODEL, variant: 'q4', parameters: { max_new_tokens: 3 }, ...(int8MatMul === undefined ? {} : { int8MatMul }) });
    const searchPaths = readModelSearchPaths(root, { HONNX_CACHE: join(root, 'cache') });
    const { app, ready, release } = createNodeApp({ functions: [{ name: 'story', fn }], engine, searchPaths });
    await ready();
    const response = await app.fetch(new Request('http://honnx.test/story', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"Once"}' }));
    await release();
    return { seen, status: response.status };
  }

  it('true and false are passed on; unset leaves the engine its default', async () => {
    for (const setting of [true, false, undefined]) {
      const { seen, status } = await serve(setting);
      expect(status).toBe(200);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((options) => options.int8MatMul === setting)).toBe(true);
    }
  }, 60_000);
});
