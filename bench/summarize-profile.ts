import { readFileSync } from 'node:fs';

/*
 * Summarises a V8 .cpuprofile: self time per function (with its file and line), per file (--by-file), and total
 * ("inclusive") time of the functions that matter, as a share of the sampled time that was not idle. Usage:
 * node bin/run-ts.mjs bench/summarize-profile.ts FILE.cpuprofile [--top N] [--by-file] [--inclusive PATTERN,...]
 * (--by-file splits a `honnx serve` bundle into its source modules when the server ran with HONNX_PROFILE_UNMINIFIED=1)
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, ...rest] = process.argv.slice(2);
const topIndex = rest.indexOf('--top');
const top = topIndex >= 0 ? Number(rest[topIndex + 1]) : 40;
const inclusiveIndex = rest.indexOf('--inclusive');
const inclusivePatterns = inclusiveIndex >= 0 ? rest[inclusiveIndex + 1].split(',') : [];
const byFile = rest.includes('--by-file');

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Time per sample: the delta that follows it.
const selfTime = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index + 1] ?? 0;
  selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
  total += delta;
});

const label = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
  return `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
};

const selfByLabel = new Map<string, number>();
for (const [id, time] of selfTime) {
  const key = label(byId.get(id)!);
  selfByLabel.set(key, (selfByLabel.get(key) ?? 0) + time);
}
const idle = [...selfTime].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((sum, [, time]) => sum + time, 0);
console.log(`sampled ${(total / 1000).toFixed(0)} ms, idle ${((100 * idle) / total).toFixed(1)}%; shares below are of non-idle time`);
const busy = total - idle;
for (const [key, time] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((100 * time) / busy).toFixed(2).padStart(6)}%  ${key}`);
}

const bundleModules = new Map<string, string[]>();

/**
 * The source module a line of a bundle came from, read from esbuild's `// path` comments: `honnx serve` writes them
 * when started with HONNX_PROFILE_UNMINIFIED=1 (its bundles are minified otherwise, and then count as one file).
 */
function bundledModule(url: string, lineNumber: number): string | undefined {
  if (!url.startsWith('file://') || !url.includes('/.cache/honnx-serve/')) return undefined;
  let modules = bundleModules.get(url);
  if (!modules) {
    modules = [];
    let current = url;
    for (const line of readFileSync(new URL(url), 'utf8').split('\n')) {
      if (/^\/\/ \S+$/.test(line)) current = line.slice(3);
      modules.push(current);
    }
    bundleModules.set(url, modules);
  }
  return modules[lineNumber];
}

if (byFile) {
  console.log('\nself time per file (package for node_modules, "native" for V8 and Node internals without a file):');
  const perFile = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const { url, functionName, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const file = url === '' ? `native ${functionName.startsWith('(') ? functionName : '(other)'}` : url.replace(/^file:\/\/.*?\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
    perFile.set(bundledModule(url, lineNumber) ?? file, (perFile.get(bundledModule(url, lineNumber) ?? file) ?? 0) + time);
  }
  for (const [file, time] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * time) / busy).toFixed(2).padStart(6)}%  ${file}`);
}

if (inclusivePatterns.length > 0) {
  console.log('\ninclusive (a sample counts once per pattern if any frame on its stack matches):');
  for (const pattern of inclusivePatterns) {
    let time = 0;
    for (const [id, delta] of selfTime) {
      for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
        if (label(byId.get(current)!).includes(pattern)) {
          time += delta;
          break;
        }
      }
    }
    console.log(`${((100 * time) / busy).toFixed(2).padStart(6)}%  ${pattern}`);
  }
}
