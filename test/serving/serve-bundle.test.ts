import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { mirrorFolder } from '../support/shared-models.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** Processes whose parent is `pid` (esbuild's service process, which tsx starts, would be one). */
function listChildren(pid: number): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')] : [];
      } catch {
        return [];
      }
    });
}

/** `honnx serve --function classify --workers 1` in a child process: what it answers and runs, then SIGTERM. */
async function serveClassify(environment: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [join(projectRoot, 'bin/honnx.mjs'), 'serve', '--function', 'classify', '--workers', '1', '--port', '0', '--host', '127.0.0.1'], {
    cwd: projectRoot,
    env: { ...process.env, HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache'), HONNX_LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"event":"ready"')) resolve((JSON.parse(line) as { url: string }).url);
      });
      void exited.then((code) => reject(new Error(`honnx serve exited (${code}) before it was ready`)));
    });
    const info = (await (await fetch(`${url}/classify`)).json()) as { serving: { lanes: number } };
    const [[best]] = (await (
      await fetch(`${url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' })
    ).json()) as { label: string; score: number }[][];
    const children = listChildren(child.pid!);
    const routes = (await (await fetch(`${url}/readyz`)).json()) as { functions: Record<string, string> };
    child.kill('SIGTERM');
    return { lanes: info.serving.lanes, best, children, functions: Object.keys(routes.functions), code: await exited };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('honnx serve', () => {
  it('serves from a bundle of the server and its worker entries: no TypeScript loader, no esbuild process beside it', async () => {
    const served = await serveClassify({});
    expect(served.functions).toEqual(['classify']);
    expect(served.lanes).toBe(1);
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.9942.
    expect(served.best.label).toBe('POSITIVE');
    expect(served.best.score).toBeCloseTo(0.9942, 3);
    expect(served.children).toEqual([]);
    expect(served.code).toBe(0);
  });

  it('serves the same from its sources through tsx when asked (HONNX_SERVE_FROM_SOURCES=1)', async () => {
    const served = await serveClassify({ HONNX_SERVE_FROM_SOURCES: '1' });
    expect(served.functions).toEqual(['classify']);
    expect(served.lanes).toBe(1);
    expect(served.best.label).toBe('POSITIVE');
    expect(served.best.score).toBeCloseTo(0.9942, 3);
    expect(served.code).toBe(0);
  });

  it('refuses to start, exit 1, naming a function that is not in functions/', async () => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/honnx.mjs'), 'serve', '--function', 'no-such-function', '--port', '0'], {
      cwd: projectRoot,
      env: { ...process.env, HONNX_MIRROR: mirrorFolder },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/honnx cannot start:\s+no function named no-such-function/);
  });
});
