import type { ModelFiles } from '../../models/model-files.ts';

/** The part of an R2 bucket binding this reads; structural, so no Workers type package is needed. */
export interface R2BucketLike {
  head(key: string): Promise<unknown>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/**
 * A model folder stored in an R2 bucket under `<prefix>/` (by default the model's name), for models too large
 * to bundle into the worker. Each file is read once, when the function's model loads.
 */
export function createR2ModelFiles(bucket: R2BucketLike, name: string, { prefix = name, bindingName = 'R2' } = {}): ModelFiles {
  const location = `r2:${bindingName}/${prefix}`;
  const keyOf = (path: string) => `${prefix}/${path}`;
  const readBytes = async (path: string) => {
    const object = await bucket.get(keyOf(path));
    if (!object) throw new Error(`${location} has no file ${path} (R2 key ${keyOf(path)}); upload the model with the build's upload-model script`);
    return new Uint8Array(await object.arrayBuffer());
  };
  return {
    name,
    location,
    has: async (path) => (await bucket.head(keyOf(path))) !== null,
    readBytes,
    readText: async (path) => new TextDecoder().decode(await readBytes(path)),
  };
}
