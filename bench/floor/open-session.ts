import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { modelFolder } from '../mirror.ts';

/** The raw floor's session: onnxruntime-node on the CPU, 1 intra-op thread, the same options honnx's node engine sets. */
export function openSession(model: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(join(modelFolder(model), 'onnx', 'model.onnx'), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
}

export function openTokenizer(model: string): Tokenizer {
  const read = (file: string) => JSON.parse(readFileSync(join(modelFolder(model), file), 'utf8')) as object;
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

export const int64Tensor = (values: readonly number[], dims: readonly number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);

export { ort };

/** The line a child process prints its result on, for the orchestrator to read. */
export function printResult(result: unknown): void {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}
