import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Where a one-worker build records what it was built from, inside its output folder (which a rebuild clears). */
const RECORD_FILE = '.honnx-build.json';

/** The project's files a worker bundle is made from: its functions, honnx's sources, the locked dependencies, the settings. */
const SOURCE_FOLDERS = ['functions', 'src'];
const SOURCE_FILES = ['package-lock.json', 'honnx.config.json', 'models/honnx.lock.json'];

async function listFiles(folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * A digest of everything a build reads: the content of functions/, src/, package-lock.json and the settings, and
 * `settings` (the models' files with their sha256s, the build's options). The same digest means the same output.
 */
export async function digestBuildInputs(projectRoot: string, settings: unknown): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(settings));
  const files = [...(await Promise.all(SOURCE_FOLDERS.map((folder) => listFiles(join(projectRoot, folder))))).flat(), ...SOURCE_FILES.map((file) => join(projectRoot, file))];
  for (const file of files.map((path) => relative(projectRoot, path)).sort()) {
    const path = join(projectRoot, file);
    hash.update(`\0${file}\0`);
    if (existsSync(path)) hash.update(await readFile(path));
  }
  return hash.digest('hex');
}

/** What the build in `outDir` recorded: its inputs' digest and its report, or undefined when there is none. */
export async function readBuildRecord<Report>(outDir: string): Promise<{ digest: string; report: Report } | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, RECORD_FILE), 'utf8')) as { digest: string; report: Report };
  } catch {
    return undefined;
  }
}

export async function writeBuildRecord(outDir: string, digest: string, report: unknown): Promise<void> {
  await writeFile(join(outDir, RECORD_FILE), JSON.stringify({ digest, report }));
}
