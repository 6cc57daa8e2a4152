import { parseArgs } from 'node:util';
import { BUILD_USAGE, buildCommand } from './build-command.ts';
import { MIRROR_USAGE, mirrorCommand } from './mirror-command.ts';
import { MODELS_USAGE, modelsCommand } from './models-command.ts';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { serveProject } from '../runtime/node/serve.ts';

const USAGE = `honnx: task-specific inference endpoints on small ONNX models

Usage:
  honnx serve [--port N] [--host H] [--threads N]   serve every function in functions/ (PORT, HOST from the environment)
${BUILD_USAGE}
${MODELS_USAGE}
${MIRROR_USAGE}
  honnx help                                         this text

Models resolve from models/, then HONNX_CACHE, then HONNX_MIRROR (honnx.config.json "mirror" when unset);
"honnx models pull" fetches from the hub (HF_ENDPOINT, HF_TOKEN). Locked files (models/honnx.lock.json) are verified before serving.`;

async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, threads: { type: 'string' } },
  });
  try {
    const running = await serveProject({
      port: values.port === undefined ? undefined : Number(values.port),
      host: values.host,
      threads: values.threads === undefined ? undefined : Number(values.threads),
    });
    console.log(`honnx listening on ${running.url}, loading models...`);
    const shutdown = () => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    try {
      await running.ready;
      console.log(`honnx ready on ${running.url}`);
    } catch (error) {
      console.error(`honnx: ${(error as Error).message}`);
      await running.close();
      return 1;
    }
    // Keep serving until a signal closes the server.
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (error instanceof MissingModelsError) {
      console.error(`honnx cannot start:\n\n${error.message}`);
      return 1;
    }
    throw error;
  }
}

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
