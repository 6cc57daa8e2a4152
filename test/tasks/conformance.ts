import type { Engine } from '../../src/engine/engine.ts';
import type { ModelFiles } from '../../src/models/model-files.ts';

/**
 * What every task case file receives. The same cases run on each engine (onnxruntime-node, onnxruntime-web
 * in Node, onnxruntime-web inside workerd); only this context differs.
 */
export interface ConformanceContext {
  engineName: string;
  engine: Engine;
  /** A real model from the mirror (../shared/models) by folder name. */
  sharedModel(name: string): ModelFiles;
  /** A tiny model the project generates itself (test/fixtures), by folder name. */
  generatedModel(name: string): ModelFiles;
  /** Reads a file from the shared mirror (datasets, sanity.json). */
  readSharedText(path: string): Promise<string>;
}

export type ConformanceCases = (context: ConformanceContext) => void;
