import { env } from 'cloudflare:workers';
import * as ort from 'onnxruntime-web/wasm';
import wasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { Engine } from '../../src/engine/engine.ts';
import { createFetcherModelFiles } from '../../src/runtime/workers/fetcher-model-files.ts';
import { createWorkersEngine } from '../../src/runtime/workers/workers-engine.ts';
import type { ModelFiles } from '../../src/models/model-files.ts';
import type { ConformanceContext } from '../tasks/conformance.ts';

/** The service binding that serves the mirror (`/shared/...`) and the generated tiny models (`/generated/...`). */
export const modelService = env.MODELS;

let engine: Engine | undefined;

/** onnxruntime-web as a built worker wires it: the `/wasm` build and its precompiled module. */
export function workersEngine(): Engine {
  engine ??= createWorkersEngine({ ort, wasmModule });
  return engine;
}

/** Reads a file from the shared mirror (datasets, sanity.json) through the model service. */
export async function readSharedText(path: string): Promise<string> {
  const response = await modelService.fetch(new URL(`/shared/${path}`, 'https://honnx-model.internal').href);
  if (!response.ok) throw new Error(`shared file ${path}: HTTP ${response.status}`);
  return response.text();
}

export const sharedModelFiles = (name: string): ModelFiles => createFetcherModelFiles(modelService, name, { prefix: `/shared/${name}`, bindingName: 'MODELS' });

/** The conformance context inside workerd: the workers engine, and every file through the model service. */
export function createWorkerdContext(): ConformanceContext {
  return {
    engineName: 'onnxruntime-web (workerd)',
    engine: workersEngine(),
    sharedModel: sharedModelFiles,
    generatedModel: (name) => createFetcherModelFiles(modelService, name, { prefix: `/generated/${name}`, bindingName: 'MODELS' }),
    readSharedText,
  };
}
