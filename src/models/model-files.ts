/**
 * Read access to one model folder in the Hugging Face layout. Node reads a folder on disk; Workers read
 * modules bundled into the script or an R2/asset binding. Tasks see only this interface.
 */
export interface ModelFiles {
  /** The model's name, as functions refer to it. */
  readonly name: string;
  /** Where it was found, for messages: a folder path or a binding name. */
  readonly location: string;
  has(path: string): Promise<boolean>;
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** A path the native engine can map directly, saving a copy of the bytes in JavaScript memory. */
  localPath?(path: string): string;
  /** A file's size in bytes without reading it (a folder on disk); undefined where the file is absent. */
  size?(path: string): Promise<number | undefined>;
}

export async function readJson<T = Record<string, unknown>>(files: ModelFiles, path: string): Promise<T> {
  const text = await files.readText(path);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${files.location}/${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function readOptionalJson<T = Record<string, unknown>>(files: ModelFiles, path: string): Promise<T | undefined> {
  return (await files.has(path)) ? readJson<T>(files, path) : undefined;
}

/** A model held in memory, keyed by path: used by Workers bundles and by tests. */
export function createMemoryModelFiles(name: string, entries: Record<string, string | Uint8Array>, location = `memory:${name}`): ModelFiles {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const get = (path: string) => {
    const value = entries[path];
    if (value === undefined) throw new Error(`${location} has no file ${path}`);
    return value;
  };
  return {
    name,
    location,
    has: async (path) => entries[path] !== undefined,
    readText: async (path) => {
      const value = get(path);
      return typeof value === 'string' ? value : decoder.decode(value);
    },
    readBytes: async (path) => {
      const value = get(path);
      return typeof value === 'string' ? encoder.encode(value) : value;
    },
  };
}
