import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { downloadFile, type DownloadedFile } from './hub/download-file.ts';
import type { HubClient, HubFile, RepositoryListing } from './hub/hub-client.ts';
import { HubError } from './hub/hub-errors.ts';
import { silentReporter, type PullReporter } from './hub/progress.ts';
import { hashFile } from './lock/hash-file.ts';
import { findLockEntry, readLockFile, upsertLockEntry, writeLockFile, type LockEntry, type LockedFile, type ModelSource } from './lock/lock-file.ts';
import { findLockMismatches } from './lock/verify-model.ts';
import type { ModelVariant } from './model-bundle.ts';
import { listVariants, selectModelFiles } from './model-file-selection.ts';
import { recordModelVersion, type ModelVersion } from './versions/model-versions.ts';

export interface PullModelOptions {
  /** The hub repository id, which is also the model's name in functions, the cache and the lock file. */
  repo: string;
  /** Branch, tag or commit. Without it, a locked model is fetched at its locked commit, anything else at "main". */
  revision?: string;
  variant?: ModelVariant;
  /** `HONNX_CACHE`: the model lands in `<cache>/<repo>/`. */
  cacheFolder: string;
  /** The project's lock file, to check against and to update; leave it out to pull without locking. */
  lockPath?: string;
  /**
   * A pull without locking (`--no-lock`): the project's lock file, read and never written. When it locks this model
   * and variant at another version, the pull goes into the version store beside the installed copy instead of
   * replacing the files the lock points at (a box would then serve, or refuse at its next start, files it did not lock).
   */
  readOnlyLockPath?: string;
  client: HubClient;
  reporter?: PullReporter;
  /** Resumed attempts per file after a cut or a timeout. */
  retries?: number;
  /**
   * With `revision`, replace the commit the lock file pins for this model when the revision now points elsewhere
   * (`--update-lock`); without it such a pull is refused, so that a lock never moves silently.
   */
  replaceLockedCommit?: boolean;
  /** What the lock entry records as the source; a hub repository at the listing's commit unless told (an OCI pull). */
  sourceOf?: (listing: RepositoryListing, revision: string) => ModelSource;
  /** How the revision asked for is named in messages (`registry/repository:tag` for an OCI pull); `revision` by default. */
  revisionLabel?: string;
}

export interface PullResult {
  folder: string;
  entry: LockEntry;
  /** Bytes fetched over the network by this pull. */
  fetchedBytes: number;
  /** The cache already held every locked file, unchanged: nothing was fetched. */
  upToDate: boolean;
  /** What the pull did to the lock file: added an entry, changed one, left it as it was, or had none (--no-lock). */
  lockChange: 'added' | 'updated' | 'unchanged' | 'none';
  /** What the user should know of how it went: a corrupt local part fetched again, a pinned commit replaced. */
  notes: string[];
}

/** Where part files wait: inside the cache (so renames stay on one file system) but never under a model's folder. */
export const PARTIAL_FOLDER = '.partial';

function stagingFolder(cacheFolder: string, repo: string, commit: string): string {
  return join(cacheFolder, PARTIAL_FOLDER, `${repo.replaceAll('/', '--')}@${commit}`);
}

/** Drops this repository's part files, of this commit and of older ones, and the staging folder once it is empty. */
async function removeStaging(cacheFolder: string, repo: string): Promise<void> {
  const root = join(cacheFolder, PARTIAL_FOLDER);
  const prefix = `${repo.replaceAll('/', '--')}@`;
  for (const entry of await readdir(root).catch(() => [])) {
    if (entry.startsWith(prefix)) await rm(join(root, entry), { recursive: true, force: true });
  }
  if ((await readdir(root).catch(() => ['?'])).length === 0) await rm(root, { recursive: true, force: true });
}

/** Whether two entries lock the same files from the same source, whatever order their files are listed in. */
function isSameLockEntry(first: LockEntry, second: LockEntry): boolean {
  const canonical = (entry: LockEntry) =>
    JSON.stringify([entry.name, entry.variant, entry.source, [...entry.files].sort((a, b) => a.path.localeCompare(b.path)).map((file) => [file.path, file.size, file.sha256])]);
  return canonical(first) === canonical(second);
}

/** The revision that reproduces a locked model: its hub commit, or its OCI manifest digest. */
function lockedRevision(source: ModelSource): string {
  return source.type === 'hub' ? source.commit : source.type === 'oci' ? source.digest : 'main';
}

/** The commit or manifest digest a lock entry pins (none for a folder), and how a message names it. */
function pinnedRevision(source: ModelSource | undefined): { id: string; label: string } | undefined {
  if (source?.type === 'hub') return { id: source.commit, label: `commit ${source.commit}` };
  if (source?.type === 'oci') return { id: source.digest, label: `${source.digest}${source.tag ? ` (tag ${source.tag})` : ''}` };
  return undefined;
}

/** The name a version is also known by: a hub revision that is not the commit itself (a branch, a tag), an OCI tag. */
function versionTagOf(source: ModelSource): string | undefined {
  if (source.type === 'hub') return source.revision !== source.commit ? source.revision : undefined;
  return source.type === 'oci' ? source.tag : undefined;
}

/**
 * Keeps what a pull installed as one version of the model (`<cache>/.versions/`), named by its hub commit or OCI
 * manifest digest, so that a running server can swap to it, and back, without the network.
 */
async function keepVersion(cacheFolder: string, folder: string, entry: LockEntry): Promise<ModelVersion | undefined> {
  if (entry.source.type === 'folder') return undefined;
  return recordModelVersion(cacheFolder, folder, entry, lockedRevision(entry.source), versionTagOf(entry.source));
}

/** A file already installed, staged again for a pull installed elsewhere (beside the locked copy): a hard link, a copy across file systems. */
async function stageInstalledFile(installed: string, partPath: string): Promise<string> {
  await mkdir(dirname(partPath), { recursive: true });
  await rm(partPath, { force: true });
  await link(installed, partPath).catch(() => copyFile(installed, partPath));
  return partPath;
}

/** The files to fetch: what a task needs in this variant, checked against the lock entry when there is one. */
function planFiles(listing: RepositoryListing, variant: ModelVariant, endpoint: string, locked: LockEntry | undefined): HubFile[] {
  const paths = listing.files.map((file) => file.path);
  const { files, graphs } = selectModelFiles(paths, variant);
  if (graphs.length === 0) {
    const available = listVariants(paths);
    throw new HubError(
      'not_found',
      available.length > 0
        ? `${listing.repo} has no ONNX graph in variant ${variant} at ${endpoint}; it has ${available.join(', ')}: pass --variant ${available[0]}` +
          (variant === 'int8' || variant === 'q4' ? `, or pull it and make ${variant} with: honnx models quantize <folder> <folder> --${variant}` : '')
        : `${listing.repo} has no onnx/*.onnx at ${endpoint}: it is not an ONNX export; look for a conversion under onnx-community/ or Xenova/`,
    );
  }
  if (!locked) return files.map((path) => listing.files.find((file) => file.path === path)!);
  const missing = locked.files.filter((file) => !paths.includes(file.path));
  if (missing.length > 0) {
    throw new HubError('not_found', `${listing.repo} at ${listing.commit} lacks locked files: ${missing.map((file) => file.path).join(', ')}`);
  }
  return locked.files.map((lockedFile) => ({ ...listing.files.find((file) => file.path === lockedFile.path)!, size: lockedFile.size, sha256: lockedFile.sha256 }));
}

/** A file already installed with the expected size and sha256 is kept rather than fetched again. */
async function isInstalled(folder: string, file: HubFile): Promise<boolean> {
  if (!file.sha256) return false;
  const path = join(folder, file.path);
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() === true && info.size === file.size && (await hashFile(path)) === file.sha256;
}

/** Moves verified part files into the model folder, config.json last: the folder counts as a model only once it is whole. */
async function install(folder: string, staged: ReadonlyMap<string, string>): Promise<void> {
  const order = [...staged.keys()].sort((a, b) => Number(a === 'config.json') - Number(b === 'config.json'));
  for (const path of order) {
    const target = join(folder, path);
    await mkdir(dirname(target), { recursive: true });
    await rename(staged.get(path)!, target);
  }
}

/**
 * `honnx models pull`: downloads exactly the files a task needs from a hub (or a `honnx mirror serve`), each
 * into a part file that resumes after a cut, checks every file's size and hash, installs them atomically into
 * the cache and records the lock entry.
 */
export async function pullModel(options: PullModelOptions): Promise<PullResult> {
  const { repo, client, cacheFolder } = options;
  const reporter = options.reporter ?? silentReporter;
  const lock = options.lockPath ? await readLockFile(options.lockPath) : undefined;
  const variant = options.variant ?? 'fp32';
  const locked = lock ? findLockEntry(lock, repo, variant) : undefined;
  const followLock = locked !== undefined && options.revision === undefined;
  const folder = join(cacheFolder, repo);
  const lockedElsewhere = !options.lockPath && options.readOnlyLockPath ? findLockEntry(await readLockFile(options.readOnlyLockPath), repo, variant) : undefined;
  if (followLock && existsSync(folder) && (await findLockMismatches(folder, locked)).length === 0) {
    await keepVersion(cacheFolder, folder, locked);
    return { folder, entry: locked, fetchedBytes: 0, upToDate: true, lockChange: 'unchanged', notes: [] };
  }
  const revision = options.revision ?? (followLock ? lockedRevision(locked.source) : 'main');
  const listing = await client.listRepository(repo, revision);
  const notes: string[] = [];
  // A lock never moves silently: a hub revision or an OCI tag (or digest) now naming another commit or manifest
  // than the one pinned is refused unless --update-lock says to move it.
  const pinned = pinnedRevision(locked?.source);
  if (!followLock && pinned !== undefined && pinned.id !== listing.commit) {
    const oci = locked?.source.type === 'oci';
    const moving = `${options.lockPath} pins ${repo} (${variant}) at ${pinned.label}; ${options.revisionLabel ?? revision} is now ${listing.commit}`;
    if (!options.replaceLockedCommit) {
      throw new HubError(
        'conflict',
        `${moving}. Nothing was fetched: pass --update-lock to replace the pinned ${oci ? 'digest' : 'commit'}, ` +
          (oci ? 'or run honnx models pull with no name to pull the pinned one' : 'or leave out --revision to pull the pinned one'),
      );
    }
    notes.push(`${moving}: replaced ${pinned.id} in the lock file`);
  }
  const files = planFiles(listing, variant, client.endpoint, followLock ? locked : undefined);
  const staging = stagingFolder(cacheFolder, repo, listing.commit);
  // Not locked, and the lock pins another version (or a folder's files): the installed copy is the locked one and stays
  // as it is; this version is installed in staging and kept in the version store only.
  const beside = lockedElsewhere !== undefined && pinnedRevision(lockedElsewhere.source)?.id !== listing.commit;
  const installFolder = beside ? join(staging, 'installed') : folder;
  const heldBytes = (await Promise.all(files.map((file) => stat(join(staging, `${file.path}.part`)).then((info) => info.size, () => 0)))).reduce((a, b) => a + b, 0);
  reporter.begin({ name: repo, commit: listing.commit, files, heldBytes });
  const staged = new Map<string, string>();
  const lockedFiles: LockedFile[] = [];
  let fetchedBytes = 0;
  try {
    for (const file of files) {
      if (await isInstalled(folder, file)) {
        lockedFiles.push({ path: file.path, size: file.size!, sha256: file.sha256! });
        if (beside) staged.set(file.path, await stageInstalledFile(join(folder, file.path), join(staging, `${file.path}.kept`)));
        reporter.fileDone({ path: file.path, size: file.size!, fetched: 0, resumedFrom: 0 });
        continue;
      }
      const partPath = join(staging, `${file.path}.part`);
      const downloaded: DownloadedFile = await downloadFile(client, {
        repo,
        commit: listing.commit,
        file,
        partPath,
        retries: options.retries,
        onProgress: (held) => reporter.progress(file.path, held),
      });
      fetchedBytes += downloaded.fetched;
      if (downloaded.localPartCorrupt) {
        notes.push(`${file.path}: the part kept locally from an earlier pull was corrupt (not the hub's copy); it was deleted and the file fetched again whole`);
      }
      staged.set(file.path, partPath);
      lockedFiles.push({ path: file.path, size: downloaded.size, sha256: downloaded.sha256 });
      reporter.fileDone(downloaded);
    }
    await install(installFolder, staged);
  } finally {
    reporter.end();
  }
  if (beside) {
    const entry: LockEntry = { name: repo, variant, source: options.sourceOf?.(listing, revision) ?? { type: 'hub', repo, revision, commit: listing.commit }, files: lockedFiles };
    const version = (await keepVersion(cacheFolder, installFolder, entry))!;
    await removeStaging(cacheFolder, repo);
    notes.push(
      `${options.readOnlyLockPath} locks ${repo} (${variant}) at ${pinnedRevision(lockedElsewhere.source)?.label ?? 'the files of a folder'}: this pull is not locked, so it was kept in the ` +
        `version store (${version.folder}) and ${folder} still holds the locked files. Serve it with honnx models activate|canary <function> ${listing.commit.replace(/^sha256:/, '').slice(0, 12)}, ` +
        'or lock it by pulling again without --no-lock (with --update-lock)',
    );
    return { folder: version.folder, entry, fetchedBytes, upToDate: false, lockChange: 'none', notes };
  }
  await removeStaging(cacheFolder, repo);
  // A pull that follows the lock reproduces it byte for byte (every file was checked against it), so the lock
  // file, which belongs to the repository, is left exactly as it was.
  if (followLock) {
    await keepVersion(cacheFolder, folder, locked);
    return { folder, entry: locked, fetchedBytes, upToDate: false, lockChange: 'unchanged', notes };
  }
  const entry: LockEntry = {
    name: repo,
    variant,
    source: options.sourceOf?.(listing, revision) ?? { type: 'hub', repo, revision, commit: listing.commit },
    files: lockedFiles,
  };
  await keepVersion(cacheFolder, folder, entry);
  if (!options.lockPath || !lock) return { folder, entry, fetchedBytes, upToDate: false, lockChange: 'none', notes };
  // A pull at a revision that names the locked commit writes the same entry: the lock file is then left as it was.
  if (locked && isSameLockEntry(locked, entry)) return { folder, entry, fetchedBytes, upToDate: false, lockChange: 'unchanged', notes };
  await writeLockFile(options.lockPath, upsertLockEntry(await readLockFile(options.lockPath), entry));
  return { folder, entry, fetchedBytes, upToDate: false, lockChange: locked ? 'updated' : 'added', notes };
}
