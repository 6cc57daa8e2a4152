import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCount } from '../format-units.ts';
import { hashFile } from './hash-file.ts';
import type { LockEntry, LockedFile } from './lock-file.ts';

export interface FileMismatch {
  path: string;
  problem: 'missing' | 'size' | 'sha256';
  expected: LockedFile;
  /** The size or sha256 found, for the message. */
  found?: string;
}

/** Compares a model folder with its lock entry: sizes first (cheap), then sha256 of every file whose size matches. */
export async function findLockMismatches(folder: string, entry: LockEntry): Promise<FileMismatch[]> {
  const mismatches: FileMismatch[] = [];
  for (const expected of entry.files) {
    const path = join(folder, expected.path);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      mismatches.push({ path: expected.path, problem: 'missing', expected });
      continue;
    }
    if (info.size !== expected.size) {
      mismatches.push({ path: expected.path, problem: 'size', expected, found: String(info.size) });
      continue;
    }
    const sha256 = await hashFile(path);
    if (sha256 !== expected.sha256) mismatches.push({ path: expected.path, problem: 'sha256', expected, found: sha256 });
  }
  return mismatches;
}

export function describeMismatch(mismatch: FileMismatch): string {
  const { expected } = mismatch;
  switch (mismatch.problem) {
    case 'missing':
      return `${mismatch.path}: missing (expected ${formatCount(expected.size)} bytes, sha256 ${expected.sha256})`;
    case 'size':
      return `${mismatch.path}: ${formatCount(Number(mismatch.found))} bytes, expected ${formatCount(expected.size)} bytes (sha256 ${expected.sha256})`;
    case 'sha256':
      return `${mismatch.path}: sha256 ${mismatch.found}, expected ${expected.sha256}`;
  }
}

/** A model whose files differ from its lock entry: honnx will not create a session from it. */
export class ModelVerificationError extends Error {
  constructor(
    readonly entry: LockEntry,
    readonly folder: string,
    readonly mismatches: readonly FileMismatch[],
    lockPath: string,
  ) {
    super(
      [
        `model "${entry.name}" (${entry.variant}) in ${folder} does not match its lock entry in ${lockPath}; refusing to serve it:`,
        ...mismatches.map((mismatch) => `  - ${describeMismatch(mismatch)}`),
        `Fetch the locked files again (npx honnx models pull ${entry.name}${entry.variant === 'fp32' ? '' : ` --variant ${entry.variant}`}),`,
        `or, if the new files are intended, record them (npx honnx models lock ${entry.name}${entry.variant === 'fp32' ? '' : ` --variant ${entry.variant}`}).`,
      ].join('\n'),
    );
    this.name = 'ModelVerificationError';
  }
}

/** Throws ModelVerificationError naming every file that differs from the lock entry. */
export async function assertModelMatchesLock(folder: string, entry: LockEntry, lockPath: string): Promise<void> {
  const mismatches = await findLockMismatches(folder, entry);
  if (mismatches.length > 0) throw new ModelVerificationError(entry, folder, mismatches, lockPath);
}
