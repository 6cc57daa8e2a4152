import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startMirrorServer } from '../models/mirror/mirror-server.ts';
import { stopWhenLauncherExits } from '../runtime/node/launcher-exit.ts';
import { MirrorRepositories } from '../models/mirror/mirror-repositories.ts';

export const MIRROR_USAGE =
  '  honnx mirror serve FOLDER [--port 8080] [--host 127.0.0.1] [--token T] [--quiet]\n' +
  '                                                     serve a folder of models over the Hugging Face hub protocol\n' +
  '                                                     (other machines: HF_ENDPOINT=http://<host>:<port> honnx models pull)';

/** `honnx mirror serve`: one machine holds the models; a fleet of air-gapped boxes pulls from it. */
export async function mirrorCommand(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'serve') {
    console.error(`honnx mirror: ${subcommand ? `unknown subcommand "${subcommand}"` : 'a subcommand is needed'}\n\n${MIRROR_USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, quiet: { type: 'boolean' } },
    });
  } catch (error) {
    console.error(`honnx mirror serve: ${(error as Error).message}\n\nUsage:\n${MIRROR_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !existsSync(positionals[0])) {
    console.error(`honnx mirror serve takes one existing folder of models${positionals[0] ? ` (${positionals[0]} does not exist)` : ''}`);
    return 2;
  }
  const folder = positionals[0];
  const repositories = await new MirrorRepositories(folder).listIds();
  const mirror = await startMirrorServer({
    folder,
    // Not HOST from the environment: that may be set to 0.0.0.0 for `honnx serve`, and a mirror is opened on purpose.
    host: values.host ?? '127.0.0.1',
    port: Number(values.port ?? process.env.PORT ?? 8080),
    token: values.token ?? process.env.HONNX_MIRROR_TOKEN,
    log: values.quiet ? undefined : (line) => console.log(line),
  });
  console.log(`honnx mirror serving ${repositories.length} models from ${folder} on ${mirror.url}`);
  for (const id of repositories) console.log(`  ${id}`);
  console.log(`pull from another machine with: HF_ENDPOINT=${mirror.url} npx honnx models pull <name>`);
  const stop = () => void mirror.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  stopWhenLauncherExits(stop);
  await new Promise(() => {});
  return 0;
}
