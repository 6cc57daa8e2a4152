import { join, resolve } from 'node:path';

/**
 * The real models live outside the repository, in the mirror folder the server also reads (HONNX_MIRROR,
 * by default ../shared/models next to the checkout). The bench reads them in place and never copies them.
 */
export const mirrorFolder = resolve(process.env.HONNX_MIRROR ?? join(import.meta.dirname, '../../shared/models'));

export const modelFolder = (name: string) => join(mirrorFolder, name);

export const datasetPath = (...parts: string[]) => join(mirrorFolder, 'datasets', ...parts);
