import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Each engine measures in a process of its own, so one's memory and threads never weigh on another's figures. */
const root = join(import.meta.dirname, '../..');
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));

/** Runs `bench/slm/<entry>` through tsx, with models from `mirror`. */
export function spawnChild(entry: string, args: string[], mirror: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [join(root, 'bin/run-ts.mjs'), join(import.meta.dirname, entry), ...args], {
    cwd: root,
    env: { ...process.env, HONNX_MIRROR: mirror, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The rest of the first stdout line that starts with `prefix`; rejects with the child's stderr if it exits first. */
export function waitForLine(child: ChildProcess, prefix: string, seconds = 1800): Promise<string> {
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${prefix.trim()} in ${seconds} s`)), seconds * 1000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        resolve(line.slice(prefix.length));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnargs[3]} exited ${code}\n${stderr.join('').slice(-2000)}`));
    });
  });
}
