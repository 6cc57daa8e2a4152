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

export async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'build':
      return buildCommand(rest);
    case 'models':
      return modelsCommand(rest);
    case 'mirror':
      return mirrorCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`honnx: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
