import { asksForHelp, readArgumentError } from './argument-errors.ts';
import { BENCH_USAGE, benchCommand } from './bench-command.ts';
import { BUILD_USAGE, buildCommand } from './build-command.ts';
import { MIRROR_USAGE, mirrorCommand } from './mirror-command.ts';
import { MODELS_USAGE, modelsCommand } from './models-command.ts';
import { SERVE_USAGE, serveCommand } from './serve-command.ts';

const USAGE = `honnx: task-specific inference endpoints on small ONNX models

Usage:
${SERVE_USAGE}
${BUILD_USAGE}
${MODELS_USAGE}
${MIRROR_USAGE}
${BENCH_USAGE}
  honnx help                                         this text

Models resolve from models/, then HONNX_CACHE, then HONNX_MIRROR (honnx.config.json "mirror" when unset);
"honnx models pull" fetches from the hub (HF_ENDPOINT, HF_TOKEN). Locked files (models/honnx.lock.json) are verified before serving.`;

interface Command {
  run(args: string[]): Promise<number>;
  usage: string;
}

const COMMANDS: Record<string, Command> = {
  serve: { run: serveCommand, usage: SERVE_USAGE },
  build: { run: buildCommand, usage: BUILD_USAGE },
  models: { run: modelsCommand, usage: MODELS_USAGE },
  mirror: { run: mirrorCommand, usage: MIRROR_USAGE },
  bench: { run: benchCommand, usage: BENCH_USAGE },
};

export async function main(argv: string[]): Promise<number> {
  const [name = 'serve', ...rest] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    console.error(`honnx: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (asksForHelp(rest)) {
    console.log(`Usage:\n${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const message = readArgumentError(error);
    if (message === undefined) throw error;
    console.error(`honnx ${name}: ${message}\n\nUsage:\n${command.usage}`);
    return 2;
  }
}
