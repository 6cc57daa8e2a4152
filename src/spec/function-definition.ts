import type * as z from 'zod/mini';
import type { ModelVariant } from '../models/model-bundle.ts';
import type { FunctionAuth } from './function-auth.ts';
import type { FunctionLimits } from './function-limits.ts';
import type { BatchingOptions } from './serving-options.ts';
import type { TaskEndpoint } from './task-endpoint.ts';

/** The parameters a task endpoint takes. */
export type ParametersOf<Endpoint> = Endpoint extends TaskEndpoint<unknown, unknown, infer Parameters> ? Parameters : never;

/** A function's answer schema: any zod schema (zod or zod/mini) that `z.toJSONSchema` converts. */
export type AnswerSchema = z.core.$ZodType;

/** What a function file gives `defineFunction`: its task, its model and the options that tune how it is served. */
export interface FunctionDefinition<Endpoint extends TaskEndpoint = TaskEndpoint, Schema extends AnswerSchema | undefined = AnswerSchema | undefined> {
  /** The task, imported from honnx (`classifyEndpoint`, ...). Only that task's code is bundled with the function. */
  task: Endpoint;
  /**
   * The model's name: a folder in `models/`, the cache or the mirror, or a hub repository id; `name@version` pins a
   * version from the machine's version store (a tag, an OCI digest or its first 12+ hex digits, a hub commit or
   * revision), which `defineFunction` splits into `model` and `modelVersion`.
   */
  model: string;
  /** The pinned version (`model: 'name@version'`): served on Node in place of the lock's, and never moved by SIGHUP. */
  modelVersion?: string;
  /**
   * A canary started when `honnx serve` starts: `version` (a tag or digest in the machine's version store) takes
   * `percent` (above 0, at most 100) of requests beside the active version, after the same memory check and eval
   * gate as `honnx models canary`. A refused canary is logged and the active version serves alone.
   */
  canary?: CanarySpec;
  /** Which quantization of the model to load (`onnx/model_<variant>.onnx`); fp32 by default. */
  variant?: ModelVariant;
  /** Default task parameters; a request's own `parameters` override them. */
  parameters?: Partial<ParametersOf<Endpoint>>;
  limits?: FunctionLimits;
  /**
   * The answer's schema, for tasks that write one (generate): every answer is decoded under its grammar (compiled
   * from `z.toJSONSchema`), parsed and checked, and carries the value in `structured.value`, typed as
   * `z.output<Schema>` (`SchemaValue<typeof fn>`). `GET /<function>` and the OpenAPI document show it. A request
   * then may not send its own `response_format` or `grammar`.
   */
  schema?: Schema;
  /**
   * Dynamic batching: concurrent requests merged into one run, up to `maxBatchSize` inputs, waiting at most
   * `maxWaitMilliseconds` for company while the model is free; `false` runs every request alone. Each task has a
   * default (on for classify, extract and generation; off for summarize, whose extractive models must never
   * batch documents together).
   */
  batching?: BatchingOptions | false;
  /** Requests that may wait for a run; one more is answered 429 with Retry-After at once. */
  maxQueuedRequests?: number;
  /** A request not answered within this many milliseconds gets 504; its work is dropped (not run if not started). */
  timeoutMilliseconds?: number;
  /** URL path; `/<name>` by default, where the name is the function file's name. */
  route?: string;
  /** Execution providers for the WASM engine, in order of preference (for example ["webgpu", "wasm"]). */
  executionProviders?: string[];
  /**
   * Node: MatMulNBits (q4 / q4f16 exports) whose accuracy_level is unset or 0 compute with int8 activations
   * (accuracy_level 4, as llama.cpp computes Q4_0), set at load: about 1.5× faster decode on a q4 SLM. Unset, the
   * server's HONNX_INT8_MATMUL decides (off by default); `false` always serves the graph as exported. Workers serve
   * graphs as exported.
   */
  int8MatMul?: boolean;
  description?: string;
  /**
   * API keys for this function alone, replacing the server's (`{ keysEnv: 'REVIEWS_API_KEYS' }`, or `keysFile` on
   * Node); `false` leaves it open even when the server has keys. Unset: the server's keys, if any.
   */
  auth?: FunctionAuth;
  /** Options for the Workers target (`honnx build --target workers`). */
  workers?: WorkersFunctionOptions;
}

/** A canary declared in a function: the version and the share of requests (percent) it takes. */
export interface CanarySpec {
  version: string;
  percent: number;
}

/** Where a Workers build reads the model: bundled into the upload (default when it fits), static assets, or R2. */
export type ModelDelivery = 'bundle' | 'assets' | 'r2';

/** A function's options for the Workers target: where its model is read from. */
export interface WorkersFunctionOptions {
  model?: ModelDelivery;
  /** R2 bucket name for `model: 'r2'`; `honnx-models` by default. */
  bucket?: string;
}
