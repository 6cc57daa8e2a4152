import type { FunctionDefinition } from './function-definition.ts';
import type { TaskEndpoint } from './task-endpoint.ts';

/**
 * A honnx function: a task, a model and options (its definition). It knows no transport: each API surface of the
 * server (the Hugging Face routes `POST /<function>` and `GET /<function>`, ...) answers it through its host's
 * `submit`.
 */
export interface HonnxFunction<Endpoint extends TaskEndpoint = TaskEndpoint> {
  readonly definition: FunctionDefinition<Endpoint>;
}

/** Defines a function, what a file in `functions/` exports by default: `export default defineFunction({ task, model })`. */
export function defineFunction<Endpoint extends TaskEndpoint<any, any, any, any>>(definition: FunctionDefinition<Endpoint>): HonnxFunction<Endpoint> {
  return { definition };
}
