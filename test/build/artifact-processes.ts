import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const projectRoot = join(import.meta.dirname, '../..');
const wranglerBin = join(projectRoot, 'node_modules/.bin/wrangler');

/** Offline wrangler: no Request.cf download, no metrics. */
const wranglerEnvironment = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

export interface RunningArtifact {
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends SIGTERM to the process group and waits until it has exited (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** The process' exit code, once it has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  pid: number;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a process in its own process group and waits until a line of its output matches `ready`. Stopping
 * ends the whole group (wrangler runs workerd as a child), by the id of the process started here.
 */
async function startProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs: number }) {
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (exited || child.pid === undefined) return;
    const closed = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      if (!exited && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 5_000);
    await closed;
    clearTimeout(timer);
  };
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} ${args.join(' ')} was not ready after ${options.timeoutMs} ms:\n${output}`));
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = options.ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { match, output: () => output, stop, exited: exitCode, pid: child.pid! };
}

/** `wrangler dev` in a built worker's folder, local and offline. */
export async function startWranglerDev(folder: string, { timeoutMs = 60_000 } = {}): Promise<RunningArtifact> {
  // A free port can be taken by another process between finding it and workerd binding it; try fresh ports then.
  for (let attempt = 1; ; attempt++) {
    const [port, inspectorPort] = [await findFreePort(), await findFreePort()];
    try {
      const started = await startProcess(
        wranglerBin,
        ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--show-interactive-dev-session=false'],
        { cwd: folder, env: wranglerEnvironment, ready: /Ready on (http:\/\/[^\s]+)/, timeoutMs },
      );
      return { url: `http://127.0.0.1:${port}`, output: started.output, stop: started.stop, exited: started.exited, pid: started.pid };
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
}

/**
 * A built node artifact as its `npm start` runs it (`node <flags> index.mjs`, without npm in between), on a free
 * port; ready once it logs `ready` (log level info).
 */
export async function startNodeArtifact(folder: string, { timeoutMs = 60_000, env = {} as NodeJS.ProcessEnv } = {}): Promise<RunningArtifact> {
  const port = await findFreePort();
  const start = (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  if (start[0] !== 'node') throw new Error(`the artifact's start script does not run node: ${start.join(' ')}`);
  const started = await startProcess(process.execPath, start.slice(1), {
    cwd: folder,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    ready: /ready on (http:\/\/[^\s"]+)/,
    timeoutMs,
  });
  return { url: started.match[1], output: started.output, stop: started.stop, exited: started.exited, pid: started.pid };
}

/** Runs wrangler to completion in a folder; resolves with its exit code and output. */
export async function runWrangler(folder: string, args: string[], { timeoutMs = 120_000 } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(wranglerBin, args, { cwd: folder, env: wranglerEnvironment, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wrangler ${args.join(' ')} ran over ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Reads "Total Upload: 24446.42 KiB / gzip: 13129.48 KiB" from `wrangler deploy --dry-run`. */
export function readUploadSize(output: string): { kibibytes: number; gzipKibibytes: number } | undefined {
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  return match ? { kibibytes: Number(match[1]), gzipKibibytes: Number(match[2]) } : undefined;
}
