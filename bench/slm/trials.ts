import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { spawnChild, waitForLine } from './children.ts';
import { RESULT_PREFIX } from './measure.ts';

/*
 * What ONNX Runtime settings do for q4 decode, in the bare loop (bench/slm/raw-loop.ts) so only the setting differs:
 * MatMulNBits accuracy_level 0 against 4 (int8 activations, as llama.cpp computes Q4_0), intra-op threads, and the
 * graph optimization level. Figures, not assertions.
 *   node bin/run-ts.mjs bench/slm/trials.ts [qwen3-0.6b|llama-3.2-1b] [new tokens, default 32]
 * Writes the preset's q4 at accuracy_level 0 and 4 into .cache/slm/ once (SLM_PROMPTS=16,512 by default).
 */
const preset = process.argv[2] ?? 'qwen3-0.6b';
const newTokens = process.argv[3] ?? '32';
const cacheFolder = join(import.meta.dirname, '../../.cache/slm');
process.env.SLM_PROMPTS ??= '16,512';

async function ensure(folderName: string, accuracyLevel: 0 | 4): Promise<string> {
  const folder = join(cacheFolder, folderName);
  if (!existsSync(join(folder, 'onnx/model_q4.onnx'))) {
    console.log(`writing ${preset} q4 (accuracy_level ${accuracyLevel}) into ${folder} (first run only) ...`);
    await synthesizeModel({ preset, outputFolder: folder, variant: 'q4', accuracyLevel });
  }
  return folder;
}

const levelZero = await ensure(preset, 0);
const levelFour = await ensure(`${preset}-accuracy4`, 4);
const cores = availableParallelism();
const trials = [
  { name: `accuracy_level 0, ${cores} threads, optimization all`, folder: levelZero, threads: cores, optimization: 'all' },
  { name: `accuracy_level 4, ${cores} threads, optimization all`, folder: levelFour, threads: cores, optimization: 'all' },
  { name: 'accuracy_level 0, 1 thread, optimization all', folder: levelZero, threads: 1, optimization: 'all' },
  { name: 'accuracy_level 4, 1 thread, optimization all', folder: levelFour, threads: 1, optimization: 'all' },
  { name: `accuracy_level 0, ${cores} threads, optimization extended`, folder: levelZero, threads: cores, optimization: 'extended' },
  { name: `accuracy_level 0, ${cores} threads, optimization basic`, folder: levelZero, threads: cores, optimization: 'basic' },
];
console.log(`${preset} q4, greedy, ${newTokens} new tokens; load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
console.log('| setting | TTFT 16 / 512 ms | decode tok/s at 16 / 512 | ratio to the first row (decode at 16) |');
console.log('|---|---|---|---|');
let first: number | undefined;
for (const trial of trials) {
  const child = spawnChild('raw-loop.ts', [trial.folder, 'model_q4.onnx', String(trial.threads), newTokens, trial.optimization], cacheFolder);
  const result = JSON.parse(await waitForLine(child, RESULT_PREFIX)) as { ttft: Record<string, number>; decode16: number; decode512: number };
  first ??= result.decode16;
  const ttft = Object.values(result.ttft).map((value) => value.toFixed(0)).join(' / ');
  console.log(`| ${trial.name} | ${ttft} | ${result.decode16.toFixed(1)} / ${result.decode512.toFixed(1)} | ${(result.decode16 / first).toFixed(2)}× |`);
}
console.log(`load average after: ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
