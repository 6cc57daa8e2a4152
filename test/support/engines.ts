import { readFile } from 'node:fs/promises';
import * as onnxruntimeWeb from 'onnxruntime-web';
import type { Engine } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createWebEngine } from '../../src/engine/onnxruntime-web.ts';

export interface EngineUnderTest {
  name: string;
  create(): Engine;
}

/** Every engine the task conformance suite runs against in Node. workerd has its own entry. */
export const enginesUnderTest: EngineUnderTest[] = [
  { name: 'onnxruntime-node', create: () => createNodeEngine({ threads: 1 }) },
  { name: 'onnxruntime-web (wasm)', create: () => createWebEngine({ ort: onnxruntimeWeb, readModel: async (path) => new Uint8Array(await readFile(path)) }) },
];
