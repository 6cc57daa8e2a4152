import { serve } from '@hono/node-server';
import { env, pipeline, type PipelineType } from '@huggingface/transformers';
import { announceReady } from './announce-ready.ts';
import { mirrorFolder } from '../mirror.ts';

/*
 * The comparison: the same model through transformers.js' `pipeline(...)` behind a plain @hono/node-server fetch
 * handler (no framework, no validation: the least HTTP work a server can do), in its own process.
 * Loaded offline from the mirror folder, fp32 (`onnx/model.onnx`), on onnxruntime-node's CPU provider with the
 * same session options as honnx: 1 intra-op thread, 1 inter-op thread (transformers.js passes `session_options`
 * to InferenceSession.create; graph optimization stays at onnxruntime's default, "all", as honnx sets it).
 * Requests have the Hugging Face shape {"inputs", "parameters"}; `parameters` are passed to the pipeline call
 * over the fixed options given on the command line.
 * Usage: transformers.ts <pipeline task> <model> <route> <fixed call options as JSON>
 */

const [task, model, route, fixedOptionsJson] = process.argv.slice(2);
const fixedOptions = JSON.parse(fixedOptionsJson) as Record<string, unknown>;

env.localModelPath = `${mirrorFolder}/`;
env.allowLocalModels = true;
env.allowRemoteModels = false;

// pipeline()'s overloads are typed per task literal; the task here comes from the command line.
const runPipeline = (await pipeline(task as PipelineType, model, {
  dtype: 'fp32',
  device: 'cpu',
  session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
})) as unknown as (inputs: unknown, options: Record<string, unknown>) => Promise<unknown>;
await runPipeline('warm up', fixedOptions);

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const server = serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      if (request.method !== 'POST' || new URL(request.url).pathname !== route) return json({ error: 'not found' }, 404);
      try {
        const { inputs, parameters } = (await request.json()) as { inputs: unknown; parameters?: Record<string, unknown> };
        return json(await runPipeline(inputs, { ...fixedOptions, ...parameters }));
      } catch (error) {
        return json({ error: (error as Error).message }, 500);
      }
    },
  },
  (info) => announceReady(`http://127.0.0.1:${info.port}${route}`),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
