import type { OnnxRuntimeWebModule } from '../../engine/onnxruntime-web.ts';
import type { ExecutionContext } from 'hono';
import { createHonnxApp } from '../../http/create-app.ts';
import type { HonnxFunction } from '../../spec/define-function.ts';
import { HttpError } from '../../http/errors.ts';
import { createFunctionHost, type FunctionHost } from '../../serving/function-host.ts';
import { createLogger } from '../../http/logging/logger.ts';
import { createServingMetrics } from '../../http/metrics/serving-metrics.ts';
import { resolveServerSettings, type ServerSettings } from '../../http/settings/server-settings.ts';
import { loadModelBundle } from '../../models/model-bundle.ts';
import { openModelFiles, type ModelSource, type WorkerBindings } from './model-source.ts';
import { createWorkersEngine, type WorkersEngine } from './workers-engine.ts';

/** One function of a worker, with its name and where its model is read from. */
export interface WorkerFunction {
  /** The function's name; its route is `/<name>` unless the definition sets one. */
  name: string;
  fn: HonnxFunction;
  model: ModelSource;
}

/** What `createWorker` needs: the onnxruntime-web build and its compiled WASM, the functions and where their models are. */
export interface CreateWorkerOptions {
  /** `onnxruntime-web/wasm` (or `/webgpu`), imported by the worker entry. */
  ort: OnnxRuntimeWebModule;
  /** The matching `.wasm`, imported as a compiled module. */
  wasmModule: WebAssembly.Module;
  functions: readonly WorkerFunction[];
}

/** The execution context Workers pass to `fetch`, as Hono types it. */
export type WorkerExecutionContext = ExecutionContext;

/** A Workers module: its `fetch` handler serves the functions. */
export interface HonnxWorker {
  fetch(request: Request, env?: WorkerBindings, context?: WorkerExecutionContext): Promise<Response>;
  /** This isolate's function hosts, created by the first request (empty before it). */
  hosts(): readonly FunctionHost[];
}

/** Settings that cannot be honoured (a named key binding missing): the worker refuses every request rather than run open. */
function refuseEveryRequest(error: Error): Response {
  const { status, code, message } = new HttpError(500, 'server_misconfigured', error.message);
  return Response.json({ error: { code, message } }, { status });
}

/**
 * A Workers module (`export default createWorker(...)`) serving functions through the same app as Node.
 * Hosts are created once per isolate, on its first request, because bindings arrive with requests; each
 * loads its model on first use and concurrent first requests wait for the same load (`waitWhileLoading`).
 */
export function createWorker({ ort, wasmModule, functions }: CreateWorkerOptions): HonnxWorker {
  let engine: WorkersEngine | undefined;
  let served: ReturnType<typeof serve> | undefined;

  function serve(env: WorkerBindings) {
    // API keys (HONNX_API_KEYS or a function's keysEnv, as secrets), CORS and logging come from the bindings.
    let settings: ServerSettings;
    try {
      settings = resolveServerSettings({ environment: env, functions: functions.map(({ name, fn }) => ({ name, auth: fn.definition.auth })) });
    } catch (error) {
      createLogger().error('server_misconfigured', { error: (error as Error).message });
      return { misconfigured: error as Error };
    }
    // Metrics are per isolate: each isolate counts what it served since it started.
    const metrics = createServingMetrics();
    // Wiring ORT here rather than at module scope keeps the isolate's start-up (limited to 1 s) short.
    engine ??= createWorkersEngine({ ort, wasmModule });
    const workersEngine: WorkersEngine = engine;
    const mounted = functions.map(({ name, fn, model }) => {
      const host = createFunctionHost(
        name,
        fn.definition,
        (definition) =>
          loadModelBundle(openModelFiles(definition.model, model, env), workersEngine, {
            variant: definition.variant,
            session: definition.executionProviders ? { executionProviders: definition.executionProviders } : undefined,
          }),
        { waitWhileLoading: true, events: metrics.events },
      );
      return { fn, host };
    });
    const app = createHonnxApp({ functions: mounted, server: settings, metrics, logger: createLogger(settings.logging) });
    return { app, engine: workersEngine, hosts: mounted.map(({ host }) => host) };
  }

  return {
    hosts: () => served?.hosts ?? [],
    async fetch(request, env = {}, context) {
      const started = performance.now();
      served ??= serve(env);
      if (served.misconfigured) return refuseEveryRequest(served.misconfigured);
      const { app, engine: servingEngine, hosts } = served;
      const runsBefore = servingEngine.runMilliseconds();
      // Node loads every model at start-up; a worker loads on first use, so the probes and a function's
      // description wait for the load to say what Node would say (ready, execution provider, labels).
      if (request.method === 'GET') {
        const { pathname } = new URL(request.url);
        const waitFor = pathname === '/readyz' ? hosts : hosts.filter((host) => pathname === host.route || pathname === `${host.route}/`);
        await Promise.allSettled(waitFor.map((host) => host.load()));
      }
      const response = await app.fetch(request, env, context);
      // How long the worker itself took (model loading included; `wrangler dev`'s proxy and the network are not),
      // and how much of it ONNX Runtime ran, which is exact while requests do not overlap. Workers clocks tick in ms.
      const runs = servingEngine.runMilliseconds() - runsBefore;
      response.headers.append('server-timing', `honnx;dur=${(performance.now() - started).toFixed(2)}, ort;dur=${runs.toFixed(2)}`);
      return response;
    },
  };
}
