import { createHash } from 'node:crypto';

/** What a generated wrangler.toml declares besides the script. */
export interface WranglerConfigOptions {
  /** Worker name; Cloudflare allows lowercase letters, digits and dashes. */
  name: string;
  main: string;
  compatibilityDate: string;
  /** Data-module globs for bundled model files. */
  dataGlobs?: string[];
  /** Static assets folder holding models, served only through the worker. */
  assetsDirectory?: string;
  /** R2 buckets: binding name → bucket name. */
  r2Buckets?: Record<string, string>;
  /** Extra lines (comments) at the top. */
  header?: string[];
  /** Plain-text `[vars]`: each build carries its model's digest, so a Workers version says which model it serves. */
  vars?: Record<string, string>;
}

const quote = (value: string) => JSON.stringify(value);

export function toWorkerName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

/**
 * A wrangler.toml for a prebuilt worker: wrangler uploads the script as honnx built it (`no_bundle`) plus the
 * WASM module and model files it imports, found by the rules below. `send_metrics = false` keeps it offline.
 */
export function writeWranglerConfig(options: WranglerConfigOptions): string {
  const lines = [
    ...(options.header ?? []).map((line) => `# ${line}`),
    `name = ${quote(options.name)}`,
    `main = ${quote(options.main)}`,
    `compatibility_date = ${quote(options.compatibilityDate)}`,
    'send_metrics = false',
    'no_bundle = true',
    'find_additional_modules = true',
    'base_dir = "."',
    '',
    '# Each file matches one rule; `fallthrough = false` says so and keeps wrangler quiet.',
    '[[rules]]',
    'type = "ESModule"',
    `globs = [${quote(options.main)}]`,
    'fallthrough = false',
    '',
    '[[rules]]',
    'type = "CompiledWasm"',
    'globs = ["*.wasm"]',
    'fallthrough = false',
  ];
  if (options.dataGlobs?.length) {
    lines.push('', '[[rules]]', 'type = "Data"', `globs = [${options.dataGlobs.map(quote).join(', ')}]`, 'fallthrough = false');
  }
  if (options.assetsDirectory) {
    lines.push(
      '',
      '# The model is a static asset, but every request runs the worker first and the worker never serves',
      '# assets to clients, so the model is not public.',
      '[assets]',
      `directory = ${quote(options.assetsDirectory)}`,
      'binding = "ASSETS"',
      'run_worker_first = true',
    );
  }
  for (const [binding, bucket] of Object.entries(options.r2Buckets ?? {})) {
    lines.push('', '[[r2_buckets]]', `binding = ${quote(binding)}`, `bucket_name = ${quote(bucket)}`);
  }
  if (options.vars && Object.keys(options.vars).length > 0) {
    lines.push('', '[vars]', ...Object.entries(options.vars).map(([key, value]) => `${key} = ${quote(value)}`));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A content id of the model files a build ships: the sha256 of their sorted paths and sha256s. Two builds carry
 * the same id exactly when they ship the same bytes, whatever registry or folder the files came from.
 */
export function modelContentId(files: readonly { path: string; sha256: string }[]): string {
  const listing = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((file) => `${file.sha256}  ${file.path}\n`).join('');
  return `sha256:${createHash('sha256').update(listing).digest('hex')}`;
}
