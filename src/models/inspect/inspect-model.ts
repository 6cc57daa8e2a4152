import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeModel } from '../../onnx/onnx-codec.ts';
import type { ModelVariant } from '../model-bundle.ts';
import { parseGraphPath } from '../model-file-selection.ts';
import { detectTask, type TaskFit } from './detect-task.ts';
import { summarizeGraph, type GraphSummary } from './summarize-graph.ts';

export interface InspectedGraph extends GraphSummary {
  /** Relative to the model folder (`onnx/model_q4.onnx`), or the file name when a lone file was given. */
  path: string;
  bytes: number;
  /** Graph file plus its external data. */
  totalBytes: number;
  base: string;
  variant: ModelVariant;
}

export interface ModelInspection {
  /** The model folder, or the .onnx file when it has no folder around it. */
  path: string;
  configFound: boolean;
  modelType?: string;
  architecture?: string;
  labels?: string[];
  graphs: InspectedGraph[];
  task: TaskFit;
}

async function readConfig(folder: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (!folder || !existsSync(join(folder, 'config.json'))) return undefined;
  return JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
}

async function inspectGraph(file: string, relativePath: string): Promise<InspectedGraph> {
  const bytes = await readFile(file);
  const summary = summarizeGraph(decodeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  let totalBytes = bytes.byteLength;
  for (const location of summary.externalDataFiles) totalBytes += (await stat(join(dirname(file), location)).catch(() => undefined))?.size ?? 0;
  const parsed = parseGraphPath(relativePath.startsWith('onnx/') ? relativePath : `onnx/${basename(relativePath)}`);
  return { ...summary, path: relativePath, bytes: bytes.byteLength, totalBytes, base: parsed?.base ?? 'model', variant: parsed?.variant ?? 'fp32' };
}

/** The model folder a path belongs to: the folder itself, or the folder around `onnx/<file>.onnx`. */
function findModelFolder(path: string, isFile: boolean): string | undefined {
  if (!isFile) return path;
  const parent = dirname(path);
  return basename(parent) === 'onnx' && existsSync(join(dirname(parent), 'config.json')) ? dirname(parent) : undefined;
}

/**
 * Inspects a model folder (every graph under onnx/) or one .onnx file (with the config.json of its model
 * folder when it sits in one), and names the honnx task and runner that fit it.
 */
export async function inspectModel(path: string): Promise<ModelInspection> {
  const target = resolve(path);
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new Error(`${path} does not exist`);
  const folder = findModelFolder(target, info.isFile());
  const config = await readConfig(folder);
  const graphs: InspectedGraph[] = [];
  if (info.isFile()) {
    graphs.push(await inspectGraph(target, folder ? `onnx/${basename(target)}` : basename(target)));
  } else {
    const onnxFolder = join(target, 'onnx');
    const names = existsSync(onnxFolder) ? (await readdir(onnxFolder)).filter((name) => name.endsWith('.onnx')).sort() : [];
    for (const name of names) graphs.push(await inspectGraph(join(onnxFolder, name), `onnx/${name}`));
    if (graphs.length === 0) throw new Error(`${path} has no onnx/*.onnx graph`);
  }
  // The task follows from the full-precision graphs when there are any: quantization never changes I/O.
  const byBase = new Map<string, GraphSummary>();
  for (const graph of [...graphs].sort((a, b) => Number(b.variant === 'fp32') - Number(a.variant === 'fp32'))) {
    if (!byBase.has(graph.base)) byBase.set(graph.base, graph);
  }
  const files = folder ? (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name) : [];
  const id2label = config?.id2label as Record<string, string> | undefined;
  return {
    path: folder ?? target,
    configFound: config !== undefined,
    modelType: typeof config?.model_type === 'string' ? config.model_type : undefined,
    architecture: Array.isArray(config?.architectures) ? String(config.architectures[0]) : undefined,
    labels: id2label ? Object.entries(id2label).sort((a, b) => Number(a[0]) - Number(b[0])).map(([, label]) => label) : undefined,
    graphs,
    task: detectTask({ graphs: byBase, config, files }),
  };
}
