import type { ModelFiles } from '../../models/model-files.ts';

/** A binding answering fetch: the static-assets binding, or a service binding. */
export interface FetcherLike {
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
}

/** Where a model folder is behind a fetcher binding (static assets). */
export interface FetcherModelFilesOptions {
  /** Path of the model folder behind the fetcher; `/models/<name>` by default. */
  prefix?: string;
  /** Names the binding in messages. */
  bindingName?: string;
}

/**
 * A model folder served by a fetcher binding. With static assets this keeps a large model out of the worker
 * script; `run_worker_first = true` sends every request to the worker first, so the files are never public.
 */
export function createFetcherModelFiles(fetcher: FetcherLike, name: string, { prefix = `/models/${name}`, bindingName = 'ASSETS' }: FetcherModelFilesOptions = {}): ModelFiles {
  const location = `${bindingName}:${prefix}`;
  // The host is never resolved: the binding answers the request itself.
  const urlOf = (path: string) => new URL(`${prefix.replace(/\/$/, '')}/${path}`, 'https://honnx-model.internal').href;
  const fetchFile = async (path: string) => {
    const response = await fetcher.fetch(urlOf(path));
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${location} has no file ${path} (HTTP ${response.status})`);
    }
    return response;
  };
  return {
    name,
    location,
    async has(path) {
      const response = await fetcher.fetch(urlOf(path), { method: 'HEAD' });
      await response.body?.cancel();
      return response.ok;
    },
    readBytes: async (path) => new Uint8Array(await (await fetchFile(path)).arrayBuffer()),
    readText: async (path) => (await fetchFile(path)).text(),
  };
}
