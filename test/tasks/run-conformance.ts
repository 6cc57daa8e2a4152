import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import type { EngineUnderTest } from '../support/engines.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { classifyCases } from './classify.case.ts';
import type { ConformanceCases, ConformanceContext } from './conformance.ts';
import { extractCases } from './extract.case.ts';
import { generateCases } from './generate.case.ts';
import { summarizeCases } from './summarize.case.ts';

/** Every task's cases; each engine's test file runs all of them unchanged. */
export const allTaskCases: readonly ConformanceCases[] = [classifyCases, extractCases, summarizeCases, generateCases];

export const generatedModelsFolder = join(import.meta.dirname, '../../.cache/tiny-models');

/** Runs the task conformance suite against one engine, with models read from folders on disk. */
export function runTaskConformance(engineUnderTest: EngineUnderTest): void {
  const context: ConformanceContext = {
    engineName: engineUnderTest.name,
    engine: engineUnderTest.create(),
    sharedModel: mirrorModelFiles,
    generatedModel: (name) => createFolderModelFiles(join(generatedModelsFolder, name), name),
    readSharedText: (path) => readFile(join(mirrorFolder, path), 'utf8'),
  };
  describe(`task conformance on ${engineUnderTest.name}`, () => {
    for (const cases of allTaskCases) cases(context);
  });
}
