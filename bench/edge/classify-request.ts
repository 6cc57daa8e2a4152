import { readSst2Sentences } from '../inputs.ts';

/** The one classify request every engine is timed on: the first held-out SST-2 test sentence. */
export function readClassifyRequestBody(): string {
  const [sentence] = readSst2Sentences(1);
  return JSON.stringify({ inputs: sentence });
}

export const requestInit = (body: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
