import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Feeds } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';

/*
 * What `logits_to_keep` (added at load to optimum graphs, src/onnx/logits-to-keep.ts) saves in one prefill chunk:
 * the same session runs a 128-token prefill keeping 1 position's logits, then all 128, alternately, so load on the
 * box falls on both alike. Figures, not assertions.
 *   node bin/run-ts.mjs bench/slm/logits-to-keep.ts FOLDER [runs, default 5]   (a qwen3 q4 folder, e.g. .cache/slm/qwen3-0.6b)
 */
const folder = process.argv[2];
const runs = Number(process.argv[3] ?? 5);
const config = (await import(join(process.cwd(), folder, 'config.json'), { with: { type: 'json' } })).default as Record<string, number>;
const width = 128;
const engine = createNodeEngine({ threads: availableParallelism() });
const session = await engine.createSession(join(folder, 'onnx/model_q4.onnx'), { logitsToKeep: true });
const feeds: Feeds = {
  input_ids: { type: 'int64', data: BigInt64Array.from({ length: width }, (_, index) => BigInt(1000 + index * 7)), dims: [1, width] },
  attention_mask: { type: 'int64', data: new BigInt64Array(width).fill(1n), dims: [1, width] },
  position_ids: { type: 'int64', data: BigInt64Array.from({ length: width }, (_, index) => BigInt(index)), dims: [1, width] },
};
const headDimension = config.head_dim ?? config.hidden_size / config.num_attention_heads;
for (let layer = 0; layer < config.num_hidden_layers; layer++) {
  for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, config.num_key_value_heads, 0, headDimension] };
}
const time = async (keep: bigint) => {
  const started = performance.now();
  await session.run({ ...feeds, logits_to_keep: { type: 'int64', data: BigInt64Array.of(keep), dims: [] } });
  return performance.now() - started;
};
await time(1n);
const times: Record<string, number[]> = { 1: [], [width]: [] };
for (let run = 0; run < runs; run++) {
  times[1].push(await time(1n));
  times[width].push(await time(BigInt(width)));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${folder}: ${width}-token prefill, ${availableParallelism()} threads, median of ${runs}; load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
console.log(`  logits of 1 position: ${median(times[1]).toFixed(0)} ms; of all ${width}: ${median(times[width]).toFixed(0)} ms (${(median(times[width]) / median(times[1])).toFixed(2)}×)`);
await session.release();
