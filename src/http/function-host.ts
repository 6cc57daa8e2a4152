import type { ModelBundle } from '../models/model-bundle.ts';
import type { FunctionDefinition } from './define-function.ts';
import type { FunctionLimits, TaskEndpoint } from './task-endpoint.ts';

export type FunctionState = 'idle' | 'loading' | 'ready' | 'failed';

/** Loads a function's model in whatever way the runtime delivers models (folder, bundle, R2, ...). */
export type LoadFunctionModel = (definition: FunctionDefinition) => Promise<ModelBundle>;

/**
 * One function's serving state: its model, prepared once and shared by all requests. Concurrent first
 * requests wait on the same load rather than each starting one.
 */
export interface FunctionHost {
  readonly name: string;
  readonly route: string;
  readonly definition: FunctionDefinition;
  readonly endpoint: TaskEndpoint;
  readonly limits: Required<FunctionLimits>;
  readonly waitWhileLoading: boolean;
  state(): FunctionState;
  /** Why loading failed, when it did. */
  failure(): string | undefined;
  /** Milliseconds the model took to load and warm up. */
  loadMilliseconds(): number | undefined;
  /** Starts loading if nothing has yet; resolves to the prepared runner. */
  load(): Promise<unknown>;
  /** The prepared runner, or undefined while not ready. */
  runner(): unknown;
  model(): ModelBundle | undefined;
}

export interface FunctionHostOptions {
  /**
   * While the model loads, requests wait for it (Workers, which load on the first request) instead of
   * being answered 503 with Retry-After (Node, which loads every model at start-up).
   */
  waitWhileLoading?: boolean;
}

export function createFunctionHost(
  name: string,
  definition: FunctionDefinition,
  loadModel: LoadFunctionModel,
  options: FunctionHostOptions = {},
): FunctionHost {
  const endpoint = definition.task;
  let state: FunctionState = 'idle';
  let loading: Promise<unknown> | undefined;
  let runner: unknown;
  let model: ModelBundle | undefined;
  let failure: string | undefined;
  let loadMilliseconds: number | undefined;
  return {
    name,
    route: definition.route ?? `/${name}`,
    definition,
    endpoint,
    waitWhileLoading: options.waitWhileLoading ?? false,
    limits: { ...endpoint.defaultLimits, ...definition.limits },
    state: () => state,
    failure: () => failure,
    loadMilliseconds: () => loadMilliseconds,
    runner: () => runner,
    model: () => model,
    load() {
      loading ??= (async () => {
        state = 'loading';
        const started = performance.now();
        try {
          model = await loadModel(definition);
          const prepared = await endpoint.prepare(model);
          await endpoint.warmUp(prepared);
          runner = prepared;
          loadMilliseconds = performance.now() - started;
          state = 'ready';
          return prepared;
        } catch (error) {
          state = 'failed';
          failure = `function ${name} could not load model ${definition.model}: ${(error as Error).message}`;
          throw new Error(failure, { cause: error });
        }
      })();
      return loading;
    },
  };
}
