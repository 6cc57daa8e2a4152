import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { createBenchCases } from '../cases.ts';
import { openTokenizer, printResult } from '../floor/open-session.ts';
import { modelFolder } from '../mirror.ts';

/*
 * The raw floor a served function is held to: onnxruntime-node `session.run` alone, in a tight loop, on the bench
 * texts tokenized beforehand, `batch` texts per run, padded to the longest of the run. The texts run in arrival
 * order (what a server gets) or sorted by length first (the best a batcher could hope for). No HTTP, no JSON, no
 * tokenization, no post-processing.
 * Usage: raw-floor.ts <function name> <intra-op threads> <batch size> <arrival | sorted> <warm-up seconds> <seconds>
 */

const [functionName, threads, batchSize, order, warmUpSeconds, seconds] = process.argv.slice(2);
const benchCase = createBenchCases().find((candidate) => candidate.functionName === functionName);
if (benchCase?.kind !== 'encoder') throw new Error(`no encoder bench case named ${functionName}`);
const session = await ort.InferenceSession.create(join(modelFolder(benchCase.model), 'onnx', 'model.onnx'), {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
});
const tokenizer = openTokenizer(benchCase.model);
const rows = benchCase.texts.map((text) => tokenizer.encode(text).ids);
if (order === 'sorted') rows.sort((a, b) => a.length - b.length);

const size = Number(batchSize);
const feeds: Record<string, ort.Tensor>[] = [];
for (let first = 0; first < rows.length; first += size) {
  const batch = rows.slice(first, first + size);
  const width = Math.max(...batch.map((row) => row.length));
  const ids = new BigInt64Array(batch.length * width);
  const mask = new BigInt64Array(batch.length * width);
  batch.forEach((row, index) =>
    row.forEach((id, position) => {
      ids[index * width + position] = BigInt(id);
      mask[index * width + position] = 1n;
    }),
  );
  const dims = [batch.length, width];
  const feed: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
  if (session.inputNames.includes('token_type_ids')) feed.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch.length * width), dims);
  feeds.push(feed);
}

async function runFor(durationSeconds: number): Promise<{ rows: number; seconds: number; cpuMs: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + durationSeconds * 1000;
  let done = 0;
  for (let index = 0; performance.now() < until; index++) {
    const feed = feeds[index % feeds.length];
    await session.run(feed, ['logits']);
    done += feed.input_ids.dims[0];
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { rows: done, seconds: (performance.now() - started) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 };
}

await runFor(Number(warmUpSeconds));
const measured = await runFor(Number(seconds));
printResult({ ...measured, rowsPerSecond: measured.rows / measured.seconds, cpuMsPerRow: measured.cpuMs / measured.rows });
