import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../build/artifact-processes.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/**
 * Issue 16, defects 4 and 5: SIGTERM through the commands the README gives. A supervisor signals the process it
 * started (npm); the server under it must hear it, drain, exit 0 with `shutdown_complete` logged, and free its port.
 */
const projectRoot = join(import.meta.dirname, '../..');
const environment = (extra: Record<string, string> = {}) => ({
  ...process.env,
  HONNX_MIRROR: mirrorFolder,
  HONNX_CACHE: mkdtempSync(join(tmpdir(), 'honnx-signals-')),
  HONNX_LOG_LEVEL: 'info',
  HONNX_WORKERS: '0',
  ...extra,
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const started: Started[] = [];

function start(command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: (() => void)[] = [];
  const hear = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', hear);
  child.stderr!.on('data', hear);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const result: Started = {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} after ${timeoutMs} ms:\n${output}`)), timeoutMs);
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(check);
        check();
      }),
  };
  started.push(result);
  return result;
}

/** The ids of every process below `pid`, read from ps before it is signalled. */
function descendantsOf(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of table) if (ppid === parent) found.push(child), visit(child);
  };
  visit(pid);
  return found;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntilGone(pids: number[], timeoutMs = 20_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && pids.some(isAlive)) await new Promise((resolve) => setTimeout(resolve, 100));
  return pids.filter(isAlive);
}

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

const IN_FLIGHT = 300;

/** Waits until every request sent is either answered or being answered (`honnx_requests_in_flight` in /metrics). */
async function waitForRequestsHeld(url: string, settled: () => number, sent: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const scrape = await (await fetch(`${url}/metrics`)).text();
    // The scrape itself is in flight too.
    const inFlight = Number(/^honnx_requests_in_flight (\d+)/m.exec(scrape)?.[1] ?? 0) - 1;
    if (inFlight + settled() >= sent) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server did not hold all ${sent} requests within ${timeoutMs} ms`);
}

afterEach(() => {
  // Whatever a failed test left running, by the ids this file started or saw below them.
  for (const { child } of started.splice(0)) {
    for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

describe('SIGTERM through the commands the README gives', () => {
  it('npm start: the server under npm hears it, exits, and frees its port', async () => {
    const port = await findFreePort();
    const npm = start('npm', ['start', '--', '--function', 'classify', '--host', '127.0.0.1'], environment({ PORT: String(port) }));
    await npm.waitFor(/"event":"ready"/);
    const below = descendantsOf(npm.child.pid!);
    expect(below.length).toBeGreaterThan(0);
    npm.child.kill('SIGTERM');
    await npm.exited;
    expect(await waitUntilGone(below), npm.output()).toEqual([]);
    expect(npm.output()).toContain('"event":"shutdown_complete"');
    expect(await portIsFree(port)).toBe(true);
  }, 90_000);

  it('honnx mirror serve under npm exec: the mirror exits with npm and frees its port', async () => {
    const port = await findFreePort();
    const npm = start('npm', ['exec', '--offline', '--', 'node', 'bin/honnx.mjs', 'mirror', 'serve', mirrorFolder, '--port', String(port)], environment());
    await npm.waitFor(/honnx mirror serving/);
    const below = descendantsOf(npm.child.pid!);
    npm.child.kill('SIGTERM');
    await npm.exited;
    expect(await waitUntilGone(below), npm.output()).toEqual([]);
    expect(await portIsFree(port)).toBe(true);
  }, 90_000);

  it('honnx serve signalled before it listens exits 0, not 143', async () => {
    const server = start(process.execPath, ['bin/honnx.mjs', 'serve', '--function', 'classify', '--port', '0', '--host', '127.0.0.1'], environment());
    // The first thing it does is bundle the server in a child process; the signal comes while that runs.
    while (descendantsOf(server.child.pid!).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    expect({ code, signal }, server.output()).toEqual({ code: 0, signal: null });
  }, 60_000);

  // Defect 5: at the deadline, generations were cut while onnxruntime-node ran them, and the process aborted in
  // the binding (Napi::Error, exit 134) after logging shutdown_complete, in most runs: so three runs.
  it.each([1, 2, 3])('the shutdown deadline with 300 generations in flight: every 503 logged, no stack trace, exit 0 (run %i)', async () => {
    const server = start(process.execPath, ['bin/honnx.mjs', 'serve', '--function', 'generate', '--port', '0', '--host', '127.0.0.1', '--workers', '2'], {
      ...environment({ HONNX_SHUTDOWN_TIMEOUT: '1', HONNX_WORKERS: '2' }),
    });
    await server.waitFor(/"event":"ready"/);
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(server.output())![1];
    let settled = 0;
    const answers = Array.from({ length: IN_FLIGHT }, (_, seed) =>
      fetch(`${url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: 256, do_sample: true, seed } }),
      })
        .then(
          (response) => ({ status: response.status, id: response.headers.get('x-request-id') }),
          () => ({ status: 0, id: null }),
        )
        .finally(() => settled++),
    );
    // Signalled once the server holds every request (the rest were answered 429): on a busy machine some clients
    // are still connecting after a fixed wait, and a connection made after the signal is refused.
    await waitForRequestsHeld(url, () => settled, IN_FLIGHT);
    server.child.kill('SIGTERM');
    const outcomes = await Promise.all(answers);
    const { code, signal } = await server.exited;
    await new Promise((resolve) => (server.child.stdout!.readableEnded ? resolve(undefined) : server.child.once('close', resolve)));
    const output = server.output();
    expect({ code, signal }, output.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(output).toContain('"event":"shutdown_complete"');
    const refused = outcomes.filter((outcome) => outcome.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(outcomes.every((outcome) => [200, 429, 503].includes(outcome.status)), JSON.stringify(outcomes.map((outcome) => outcome.status))).toBe(true);
    // Each answer the clients got has its log line, none lost at the exit.
    const logged = new Set([...output.matchAll(/"request_id":"([^"]+)"/g)].map((match) => match[1]));
    expect(outcomes.filter((outcome) => !logged.has(outcome.id!)).length).toBe(0);
    // Requests cut by the shutdown are a condition, not a fault: no internal error, no stack trace on stderr.
    expect(output).not.toContain('internal_error');
    expect(output).not.toMatch(/^function generate/m);
  }, 120_000);
});
