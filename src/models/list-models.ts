import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listFolderFiles } from './lock/lock-folder.ts';
import type { LockEntry, LockFile } from './lock/lock-file.ts';
import type { ModelVariant } from './model-bundle.ts';
import { listVariants, selectModelFiles } from './model-file-selection.ts';
import { PARTIAL_FOLDER } from './pull-model.ts';
import { ModelNotFoundError, resolveModel, type ModelSearchPaths, type ResolvedModel } from './resolve-model.ts';

/** A function's use of a model, as `ls` reports it. */
export interface ModelUse {
  functionName: string;
  model: string;
  variant: ModelVariant;
}

export interface ModelListing {
  name: string;
  variant: ModelVariant;
  lock?: LockEntry;
  /** Where resolution finds it now; undefined when it is nowhere. */
  found?: ResolvedModel;
  /** Variants present in the folder found. */
  variantsPresent: ModelVariant[];
  /** Bytes of the files this variant needs: the locked sizes, or what the folder holds. */
  bytes?: number;
  functions: string[];
}

/** Model folders in the cache, one level (`name/`) or two (`org/name/`) down. */
export async function listCachedModels(cache: string): Promise<string[]> {
  if (!existsSync(cache)) return [];
  const names: string[] = [];
  for (const entry of await readdir(cache, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === PARTIAL_FOLDER || entry.name.startsWith('.')) continue;
    if (existsSync(join(cache, entry.name, 'config.json'))) names.push(entry.name);
    else {
      for (const inner of await readdir(join(cache, entry.name), { withFileTypes: true })) {
        if (inner.isDirectory() && existsSync(join(cache, entry.name, inner.name, 'config.json'))) names.push(`${entry.name}/${inner.name}`);
      }
    }
  }
  return names.sort();
}

async function measureFolder(folder: string, variant: ModelVariant): Promise<{ bytes: number; variants: ModelVariant[] }> {
  const paths = await listFolderFiles(folder);
  let bytes = 0;
  for (const path of selectModelFiles(paths, variant).files) bytes += (await stat(join(folder, path))).size;
  return { bytes, variants: listVariants(paths) };
}

/**
 * `honnx models ls`: every model that is locked, used by a function, or in the cache, with where it resolves,
 * its size and variants, and the functions that use it. Nothing is hashed here; `verify` does that.
 */
export async function listModels(searchPaths: ModelSearchPaths, lock: LockFile, uses: readonly ModelUse[]): Promise<ModelListing[]> {
  const rows = new Map<string, ModelListing>();
  const row = (name: string, variant: ModelVariant) => {
    const key = `${name}\0${variant}`;
    let existing = rows.get(key);
    if (!existing) {
      existing = { name, variant, variantsPresent: [], functions: [] };
      rows.set(key, existing);
    }
    return existing;
  };
  for (const entry of lock.models) row(entry.name, entry.variant).lock = entry;
  for (const use of uses) row(use.model, use.variant).functions.push(use.functionName);
  for (const name of await listCachedModels(searchPaths.cache)) {
    if (![...rows.values()].some((listing) => listing.name === name)) row(name, 'fp32');
  }
  for (const listing of rows.values()) {
    try {
      listing.found = resolveModel(listing.name, searchPaths);
    } catch (error) {
      if (!(error instanceof ModelNotFoundError)) throw error;
    }
    if (listing.found) {
      const measured = await measureFolder(listing.found.folder, listing.variant);
      listing.variantsPresent = measured.variants;
      listing.bytes = measured.bytes;
    }
    if (listing.lock) listing.bytes = listing.lock.files.reduce((sum, file) => sum + file.size, 0);
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.variant.localeCompare(b.variant));
}
