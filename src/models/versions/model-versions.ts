import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LockEntry } from '../lock/lock-file.ts';

/**
 * Every version of a model pulled from a registry, kept side by side under `<cache>/.versions/<name>/<hex>/`
 * (hard links to the installed files, so a version costs no extra disk), so that a server can load a new
 * version beside the one serving and roll back to an earlier one without a network.
 */
export const VERSIONS_FOLDER = '.versions';
const VERSION_FILE = 'version.json';

export interface ModelVersion {
  name: string;
  /** `sha256:<hex>` for a registry artifact, a hub commit, or a folder's own id. */
  digest: string;
  tag?: string;
  entry: LockEntry;
  folder: string;
  recordedAt: string;
}

const versionsOf = (cacheFolder: string, name: string) => join(cacheFolder, VERSIONS_FOLDER, ...name.split('/'));
const folderName = (digest: string) => digest.replace(/^sha256:/, '');

/** Keeps the files of an installed model (checked against `entry` already) as one version of it. */
export async function recordModelVersion(cacheFolder: string, installed: string, entry: LockEntry, digest: string, tag?: string): Promise<ModelVersion> {
  const folder = join(versionsOf(cacheFolder, entry.name), folderName(digest));
  const staging = `${folder}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  for (const file of entry.files) {
    const target = join(staging, file.path);
    await mkdir(dirname(target), { recursive: true });
    await link(join(installed, file.path), target).catch(() => copyFile(join(installed, file.path), target));
  }
  const version: ModelVersion = { name: entry.name, digest, tag, entry, folder, recordedAt: new Date().toISOString() };
  await writeFile(join(staging, VERSION_FILE), `${JSON.stringify({ ...version, folder: undefined }, null, 2)}\n`);
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);
  return version;
}

/** The versions of a model this machine holds, newest first (read synchronously: start-up resolves pins with it). */
export function listModelVersionsSync(cacheFolder: string, name: string): ModelVersion[] {
  const root = versionsOf(cacheFolder, name);
  const versions: ModelVersion[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.endsWith('.tmp')) continue;
    const folder = join(root, entry.name);
    try {
      const recorded = JSON.parse(readFileSync(join(folder, VERSION_FILE), 'utf8')) as ModelVersion;
      versions.push({ ...recorded, folder });
    } catch {
      // A version folder without its record is incomplete: never offered.
    }
  }
  return versions.sort((a, b) => (a.recordedAt < b.recordedAt ? 1 : -1));
}

/** The versions of a model this machine holds, newest first. */
export async function listModelVersions(cacheFolder: string, name: string): Promise<ModelVersion[]> {
  return listModelVersionsSync(cacheFolder, name);
}

/** Whether a selector names a version: its full digest or commit, at least 12 of its first hex digits, or its tag. */
export function isVersionSelected(version: { digest: string; tag?: string }, selector: string): boolean {
  const hex = selector.replace(/^sha256:/, '');
  return version.digest === selector || folderName(version.digest) === hex || (/^[0-9a-f]{12,63}$/.test(hex) && folderName(version.digest).startsWith(hex)) || version.tag === selector;
}

/**
 * The version a selector names: a full digest, at least 12 hex digits of one (as `docker images` shows them), or a
 * tag (the newest pulled under it).
 */
export function findModelVersionSync(cacheFolder: string, name: string, selector: string): ModelVersion | undefined {
  const versions = listModelVersionsSync(cacheFolder, name);
  const hex = selector.replace(/^sha256:/, '');
  return (
    versions.find((version) => version.digest === selector || folderName(version.digest) === hex) ??
    (/^[0-9a-f]{12,63}$/.test(hex) ? versions.find((version) => folderName(version.digest).startsWith(hex)) : undefined) ??
    versions.find((version) => version.tag === selector)
  );
}

/** The same, for callers already asynchronous. */
export async function findModelVersion(cacheFolder: string, name: string, selector: string): Promise<ModelVersion | undefined> {
  return findModelVersionSync(cacheFolder, name, selector);
}
