import * as z from 'zod/mini';
import { createHonnxApp, type HonnxAppOptions } from '../../src/http/create-app.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { defineFunction, type HonnxFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { createLogger, type Logger, type LogLevel } from '../../src/http/logging/logger.ts';
import type { TaskEndpoint } from '../../src/spec/task-endpoint.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

/** Log lines written by a logger, parsed, for tests to read. */
export function captureLogs(level: LogLevel = 'debug') {
  const lines: string[] = [];
  const logger: Logger = createLogger({ level, write: (line) => lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/**
 * A task whose answers the test controls, for what a real model cannot do on demand: `"wait"` answers only when
 * `release()` is called; a streamed answer sends one event, then fails if the input is `"fail"`, else waits for
 * `release()` before the last.
 */
export function createControlledFunction() {
  let release!: () => void;
  let released = new Promise<void>((resolve) => (release = resolve));
  const endpoint: TaskEndpoint<object, string, { stream_events?: number }, unknown> = {
    task: 'controlled',
    inputsSchema: z.string(),
    parametersSchema: z.strictObject({ stream_events: z.optional(z.int()) }),
    defaultLimits: { maxBodyBytes: 1 << 16, maxInputs: 1, maxInputTokens: 64, maxNewTokens: 0, maxSentences: 0 },
    prepare: async () => ({}),
    warmUp: async () => {},
    describe: () => ({}),
    async answer(_runner, inputs, { stream }) {
      if (stream) {
        return (async function* () {
          yield { token: 'first' };
          if (inputs === 'fail') throw new Error('the session failed mid-stream');
          await released;
          yield { token: 'last' };
        })();
      }
      if (inputs === 'wait') await released;
      return [{ echo: inputs }];
    },
  };
  const fn = defineFunction({ task: endpoint, model: 'none' });
  // No model: only what describing a loaded function reads of one.
  const model = { variant: 'fp32', files: { location: 'nowhere' }, engine: { name: 'none' } } as unknown as ModelBundle;
  const host = createFunctionHost('controlled', fn.definition, async () => model);
  return {
    fn,
    host,
    release: () => {
      release();
      released = new Promise<void>((resolve) => (release = resolve));
    },
  };
}

const sentiment = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini' });

/** The real sentiment model from the mirror, loaded once per test file. */
let sentimentModel: Promise<ModelBundle> | undefined;
export function createSentimentHost(name = 'classify', fn: HonnxFunction = sentiment): { fn: HonnxFunction; host: FunctionHost } {
  sentimentModel ??= loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), createNodeEngine({ threads: 1 }));
  const model = sentimentModel;
  return { fn, host: createFunctionHost(name, fn.definition, () => model) };
}

/** createHonnxApp with every host loaded first. */
export async function createLoadedApp(options: HonnxAppOptions) {
  await Promise.all(options.functions.map(({ host }) => host.load()));
  return createHonnxApp(options);
}

/** The default generate function (functions/generate.ts) on the real TinyStories model from the mirror. */
export async function createGenerateHost(): Promise<{ fn: HonnxFunction; host: FunctionHost }> {
  const { default: fn } = await import('../../functions/generate.ts');
  const model = loadModelBundle(mirrorModelFiles(fn.definition.model), createNodeEngine({ threads: 1 }));
  return { fn, host: createFunctionHost('generate', fn.definition, () => model) };
}
