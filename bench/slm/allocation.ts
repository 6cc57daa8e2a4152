import { PerformanceObserver } from 'node:perf_hooks';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import type { EngineSession } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createDecoderOnlyModel } from '../../src/tasks/generate/decoder-only-model.ts';

/*
 * What the pooled outputs save: GC runs and pause time over `steps` decode steps of 4 streams, with honnx's decoder
 * writing the cache and logits into pooled buffers (onnxruntime-node writes there, then returns a copy anyway), and
 * with the engine allocating fresh outputs every step (the default). Usage: allocation.ts <model folder> <variant> <steps>
 */
const [folder, variant, stepsText] = process.argv.slice(2);
const steps = Number(stepsText);
const bundle = await loadModelBundle(createFolderModelFiles(folder), createNodeEngine({ threads: 1 }), { variant: variant as 'q4' });
const argmax = (scores: Float32Array) => {
  let best = 0;
  for (let index = 1; index < scores.length; index++) if (scores[index] > scores[best]) best = index;
  return best;
};

async function measure(pooled: boolean) {
  const session = await bundle.openSession();
  // onnxruntime-node writes into given outputs but does not claim to (it returns copies): the pooled run forces it.
  const driven: EngineSession = pooled ? { ...session, writesIntoOutputs: true } : session;
  const decoding = createDecoderOnlyModel(driven, { config: bundle.config, maxSequenceLength: 4096 }).batched!;
  const prompts = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11], [12, 13, 14, 15, 16], [17]];
  let step = await decoding.prefill(prompts);
  let collections = 0;
  let major = 0;
  let pauseMs = 0;
  const observer = new PerformanceObserver((list) =>
    list.getEntries().forEach((entry) => {
      collections++;
      pauseMs += entry.duration;
      // NODE_PERFORMANCE_GC_MAJOR = 4
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 4) major++;
    }),
  );
  observer.observe({ entryTypes: ['gc'] });
  const started = performance.now();
  for (let index = 0; index < steps; index++) step = await decoding.step(step.batch, step.scores.map(argmax));
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  await session.release();
  return { collections, major, pauseMs: Math.round(pauseMs), msPerStep: +(elapsed / steps).toFixed(2) };
}

console.log('fresh outputs ', await measure(false));
console.log('pooled outputs', await measure(true));
