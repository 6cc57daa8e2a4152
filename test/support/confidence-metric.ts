import type { SendRequest } from './requests.ts';

/** How many observations `honnx_answer_confidence` holds for a function, read from the app's /metrics. */
export async function readConfidenceCount(send: SendRequest, functionName: string): Promise<number> {
  const metrics = await (await send('/metrics')).text();
  const line = metrics.split('\n').find((entry) => entry.startsWith('honnx_answer_confidence_count') && entry.includes(`function="${functionName}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
