import { vi } from 'vitest';
import { join } from 'node:path';
import { modelsCommand } from '../../src/cli/models-command.ts';

export interface CommandResult {
  status: number;
  output: string;
  errors: string;
}

/** Runs `honnx models ...` in a project folder with its console (and progress bar) captured instead of printed. */
export async function runModelsCommand(projectRoot: string, args: string[]): Promise<CommandResult> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  const progress = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const status = await modelsCommand(args, projectRoot);
    return { status, output: log.mock.calls.map((call) => call.join(' ')).join('\n'), errors: error.mock.calls.map((call) => call.join(' ')).join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    progress.mockRestore();
  }
}

/**
 * The environment of a box under test with no mirror folder of its own: models come into `<root>/cache` over HTTP
 * from `hubEndpoint`, with no token. Resolves to a function putting the environment back as it was.
 */
export function useBoxWithoutMirror(root: string, hubEndpoint: string): () => void {
  const keys = ['HONNX_MIRROR', 'HONNX_CACHE', 'HF_ENDPOINT', 'HF_TOKEN'] as const;
  const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
  process.env.HONNX_MIRROR = join(root, 'no-mirror-here');
  process.env.HONNX_CACHE = join(root, 'cache');
  process.env.HF_ENDPOINT = hubEndpoint;
  delete process.env.HF_TOKEN;
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
