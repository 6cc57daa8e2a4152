import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mirrorFolder } from './mirror.ts';
import { readProcessCpuMilliseconds } from './process-cpu.ts';
import { READY_PREFIX } from './servers/announce-ready.ts';

const projectRoot = join(import.meta.dirname, '..');
const RESULT = 'BENCH_RESULT ';

const running = new Set<ChildProcess>();

// A bench stopped with Ctrl-C or a crash must not leave servers behind, holding memory and a port.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
process.once('SIGINT', () => process.exit(130));

/** Runs a bench TypeScript entry in its own Node process (through tsx, as `npm run bench` runs this file). */
function spawnEntry(entry: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, join(projectRoot, 'bin/run-ts.mjs'), join(projectRoot, entry), ...args], {
    cwd: projectRoot,
    env: { ...process.env, HONNX_MIRROR: mirrorFolder },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Resolves with the payload of the first stdout line starting with `prefix`; rejects if the process ends first. */
function waitForLine(child: ChildProcess, prefix: string, what: string, timeoutSeconds: number): Promise<string> {
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} said nothing in ${timeoutSeconds} s\n${stderr.join('')}`));
    }, timeoutSeconds * 1000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith(prefix)) return;
      clearTimeout(timer);
      resolve(line.slice(prefix.length));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code} before answering\n${stderr.join('').slice(-3000)}`));
    });
  });
}

/** Runs a measuring child to its end and returns the JSON it printed as its result. */
export async function runMeasuringChild<Result>(entry: string, args: readonly string[]): Promise<Result> {
  const child = spawnEntry(entry, args);
  const payload = await waitForLine(child, RESULT, entry, 300);
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  return JSON.parse(payload) as Result;
}

export interface ChildServer {
  /** The function's URL, ready to answer. */
  url: string;
  /** CPU the server process has used so far, in milliseconds (undefined off Linux). */
  cpuMilliseconds(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a server entry in its own process and waits until its model is loaded and it listens. `nodeFlags` go to
 * that Node process (bench/profile.ts passes --cpu-prof, which NODE_OPTIONS does not allow).
 */
export async function startChildServer(entry: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<ChildServer> {
  const child = spawnEntry(entry, args, nodeFlags);
  const url = await waitForLine(child, READY_PREFIX, entry, 180);
  return toChildServer(child, url);
}

/** A started server process as the bench drives it: its URL, its CPU time, and SIGTERM to stop it. */
function toChildServer(child: ChildProcess, url: string): ChildServer {
  return {
    url,
    cpuMilliseconds: () => (child.pid === undefined ? undefined : readProcessCpuMilliseconds(child.pid)),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A port nobody listens on right now (the OS picks it), for a server that must be told its port. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilReady(child: ChildProcess, readyUrl: string, what: string, timeoutSeconds: number): Promise<void> {
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const until = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering\n${stderr.join('').slice(-3000)}`);
    const ready = await fetch(readyUrl).then((response) => response.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} was not ready in ${timeoutSeconds} s\n${stderr.join('').slice(-3000)}`);
}

export interface HonnxServeOptions {
  /** `--workers`: 0 runs the model on the HTTP thread. */
  workers: number;
  /** Node flags for the serving process (--cpu-prof). */
  nodeFlags?: readonly string[];
  /** Extra environment, for example HONNX_LOG_LEVEL. */
  env?: Record<string, string>;
  /** The honnx checkout to serve from (an A/B comparison serves two); this one by default. */
  root?: string;
}

/** The Node flags `npm start` gives `honnx serve` (package.json's start script). */
function npmStartFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * Starts `honnx serve --function <name>` exactly as `npm start` runs it (`node <its flags> bin/honnx.mjs serve`, which
 * serves from a bundle of the server) and waits until /readyz says its model is loaded. Its request log (one JSON line per
 * request on stdout, the default) is read and dropped, as a log collector would read it.
 */
export async function startHonnxServe(functionName: string, { workers, nodeFlags = [], env = {}, root = projectRoot }: HonnxServeOptions): Promise<ChildServer> {
  const port = await findFreePort();
  const args = ['serve', '--function', functionName, '--workers', String(workers), '--host', '127.0.0.1', '--port', String(port)];
  const child = spawn(process.execPath, [...npmStartFlags(), ...nodeFlags, join(root, 'bin/honnx.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, HONNX_MIRROR: mirrorFolder, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout!.resume();
  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, `${base}/readyz`, `honnx serve --function ${functionName}`, 180);
  return toChildServer(child, `${base}/${functionName}`);
}
