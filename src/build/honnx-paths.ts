import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where honnx itself is installed. A user's project imports honnx from node_modules, so the runtime entries
 * and honnx's own dependencies (onnxruntime-web, onnxruntime-node) resolve from here, not from the project.
 */
export const honnxSourceFolder = dirname(dirname(fileURLToPath(import.meta.url)));
export const honnxRoot = dirname(honnxSourceFolder);

const requireFromHonnx = createRequire(join(honnxRoot, 'package.json'));

export const resolveFromHonnx = (specifier: string): string => requireFromHonnx.resolve(specifier);

export const honnxSourcePath = (path: string): string => join(honnxSourceFolder, path);

/** node_modules folders esbuild searches for honnx's dependencies when bundling a project elsewhere. */
export const honnxNodePaths = [join(honnxRoot, 'node_modules')];
