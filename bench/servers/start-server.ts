import type { BenchCase } from '../cases.ts';
import { startChildServer, startHonnxServe, type ChildServer } from '../child-process.ts';

export type ServerName = 'honnx' | 'transformers.js';

/**
 * The core bench's two servers for a case: `honnx serve --function <name> --workers 0` (the model on the HTTP
 * thread, as transformers.js runs it; the serving bench measures worker threads), and transformers.js' pipeline
 * behind a plain @hono/node-server handler (bench/servers/transformers.ts).
 */
export function startBenchServer(server: ServerName, benchCase: BenchCase, nodeFlags: readonly string[] = []): Promise<ChildServer> {
  if (server === 'honnx') return startHonnxServe(benchCase.functionName, { workers: 0, nodeFlags });
  return startChildServer(
    'bench/servers/transformers.ts',
    [benchCase.pipelineTask, benchCase.model, `/${benchCase.functionName}`, JSON.stringify(benchCase.pipelineOptions)],
    nodeFlags,
  );
}
