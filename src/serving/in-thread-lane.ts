import type { FunctionDefinition } from '../spec/function-definition.ts';
import type { BatchedAnswers, TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';
import type { RunObserver } from '../spec/run-observer.ts';
import type { ModelBundle } from '../models/model-bundle.ts';
import type { Lane, LaneBatchResult, LoadedLane } from './lane.ts';
import type { TaskCall } from '../spec/task-call.ts';
import { functionShuttingDown } from './serving-error.ts';

/** A model prepared for its task, ready to answer. */
export interface PreparedTask {
  runner: unknown;
  model: ModelBundle;
}

/** Loads, prepares and warms up a function's model for its task (in whichever thread holds the sessions). */
export async function prepareTask(endpoint: TaskEndpoint, model: ModelBundle, limits?: Required<FunctionLimits>): Promise<unknown> {
  const runner = await endpoint.prepare(model, limits ? { limits } : undefined);
  await endpoint.warmUp(runner);
  return runner;
}

export function describeLoaded(endpoint: TaskEndpoint, { runner, model }: PreparedTask): LoadedLane {
  return {
    description: endpoint.describe(runner),
    model: { variant: model.variant, location: model.files.location, engine: model.engine.name },
    charactersPerToken: model.tokenizer?.charactersPerToken(),
  };
}

/** Answers a batch with the task's batched answer, or one call at a time for tasks without one (and lone calls). */
export async function answerCalls(
  endpoint: TaskEndpoint,
  runner: unknown,
  calls: readonly TaskCall[],
  limits: Required<FunctionLimits>,
  /** The function's answer schema (`FunctionDefinition.schema`). */
  schema?: FunctionDefinition['schema'],
): Promise<LaneBatchResult> {
  const started = performance.now();
  let answers: BatchedAnswers<unknown>;
  if (calls.length > 1 && endpoint.answerBatch) {
    answers = await endpoint.answerBatch(runner, calls, limits, schema);
  } else {
    answers = [];
    // Once a batch has started, its requests run to the end: they get no signal to stop them.
    for (const call of calls) {
      try {
        answers.push({ ok: true, value: await endpoint.answer(runner, call.inputs, { parameters: call.parameters, limits, stream: false, schema }) });
      } catch (error) {
        answers.push({ ok: false, error });
      }
    }
  }
  return { answers, milliseconds: performance.now() - started };
}

export interface InThreadLaneOptions {
  functionName: string;
  definition: FunctionDefinition;
  limits: Required<FunctionLimits>;
  loadModel: (definition: FunctionDefinition) => Promise<ModelBundle>;
  observer: RunObserver;
  /** The function batches (`EndpointContext.batching`). */
  batching: boolean;
}

/** The lane of a runtime without threads (Workers) or a server told to use none: the model runs on this thread. */
export interface InThreadLane extends Lane {
  prepared(): PreparedTask | undefined;
}

export function createInThreadLane({ functionName, definition, limits, loadModel, observer, batching }: InThreadLaneOptions): InThreadLane {
  const endpoint = definition.task;
  let prepared: PreparedTask | undefined;
  let released = false;
  const require = () => {
    // Requests still queued when the function is released (a shutdown) are refused as such, not as a fault.
    if (released) throw functionShuttingDown(functionName);
    if (!prepared) throw new Error('the model is not loaded');
    return prepared;
  };
  return {
    prepared: () => prepared,
    async load() {
      const model = await loadModel(definition);
      const runner = await prepareTask(endpoint, model, limits);
      endpoint.observe?.(runner, observer);
      prepared = { runner, model };
      return describeLoaded(endpoint, prepared);
    },
    answerBatch: (calls) => answerCalls(endpoint, require().runner, calls, limits, definition.schema),
    answer: (call, signal) =>
      endpoint.answer(require().runner, call.inputs, { parameters: call.parameters, limits, stream: call.stream, signal, batching, schema: definition.schema }),
    async release() {
      // Sessions belong to the runner; runtimes release them by dropping the host (Node exits, isolates are evicted).
      released = true;
      prepared = undefined;
    },
  };
}
