import { createBenchCases } from '../cases.ts';
import { int64Tensor, openSession, openTokenizer, printResult, type ort } from './open-session.ts';

/*
 * Raw floor of an encoder (classifier or token classifier): `session.run` alone, one text per run, inputs
 * tokenized and packed into tensors before timing starts. No HTTP, no JSON, no tokenization, no post-processing:
 * what is left is what any server on onnxruntime-node must pay per request.
 * Usage: encoder.ts <function name of the case> <warm-up seconds> <seconds>
 */

const [functionName, warmUpSeconds, seconds] = process.argv.slice(2);
const benchCase = createBenchCases().find((candidate) => candidate.functionName === functionName);
if (benchCase?.kind !== 'encoder') throw new Error(`no encoder bench case named ${functionName}`);
const { model, texts } = benchCase;
const session = await openSession(model);
const tokenizer = openTokenizer(model);

const feeds = texts.map((text) => {
  const { ids } = tokenizer.encode(text);
  const dims = [1, ids.length];
  const feed: Record<string, ort.Tensor> = {
    input_ids: int64Tensor(ids, dims),
    attention_mask: int64Tensor(ids.map(() => 1), dims),
  };
  if (session.inputNames.includes('token_type_ids')) feed.token_type_ids = int64Tensor(ids.map(() => 0), dims);
  return feed;
});

/** Runs for a while; returns each run's latency and the CPU the whole process used meanwhile. */
async function runFor(durationSeconds: number): Promise<{ latenciesMs: number[]; cpuMs: number }> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const until = performance.now() + durationSeconds * 1000;
  for (let index = 0; performance.now() < until; index++) {
    const started = performance.now();
    await session.run(feeds[index % feeds.length], ['logits']);
    latencies.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { latenciesMs: latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

await runFor(Number(warmUpSeconds));
printResult({
  ...(await runFor(Number(seconds))),
  meanTokens: feeds.reduce((sum, feed) => sum + feed.input_ids.dims[1], 0) / feeds.length,
});
