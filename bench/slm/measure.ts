import { readFileSync } from 'node:fs';

/** The line a measuring child prints its JSON result on. */
export const RESULT_PREFIX = 'SLM_RESULT ';

export function printResult(result: unknown): void {
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
}

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function readRss(pid: number | 'self' = 'self'): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Prompt ids of exactly `length` tokens, the same text `honnx bench` measures with. */
export { fillPromptIds as promptIds } from '../../src/cli/measure-generation.ts';

/** Prompt lengths for TTFT; SLM_PROMPTS=16,512 shortens a run on a loaded box (a 2048-token prefill can take minutes). */
export const PROMPT_LENGTHS: readonly number[] = (process.env.SLM_PROMPTS ?? '16,512,2048').split(',').map(Number);

export const argmaxOf = (data: Float32Array | Uint16Array, offset: number, vocabulary: number) => {
  let best = 0;
  for (let index = 1; index < vocabulary; index++) if (data[offset + index] > data[offset + best]) best = index;
  return best;
};
