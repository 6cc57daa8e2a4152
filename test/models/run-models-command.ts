import { vi } from 'vitest';
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
