import type * as z from 'zod/mini';
import type { AnswerSchema, FunctionDefinition } from './function-definition.ts';
import type { TaskEndpoint } from './task-endpoint.ts';

/**
 * A honnx function: a task, a model and options (its definition). It knows no transport: each API surface of the
 * server (the Hugging Face routes `POST /<function>` and `GET /<function>`, ...) answers it through its host's
 * `submit`.
 */
export interface HonnxFunction<Endpoint extends TaskEndpoint = TaskEndpoint, Schema extends AnswerSchema | undefined = AnswerSchema | undefined> {
  readonly definition: FunctionDefinition<Endpoint, Schema>;
}

/** The type of a function's structured answer value: `z.output` of its `schema`, `unknown` without one. */
export type SchemaValue<Function> = Function extends HonnxFunction<any, infer Schema> ? (Schema extends AnswerSchema ? z.output<Schema> : unknown) : unknown;

/** A version selector: a tag, a sha256 digest (or its prefix) or a hub revision. */
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

/** A declared canary is refused at definition time, naming the field, rather than at the first start. */
function checkCanary(canary: unknown): void {
  if (canary === undefined) return;
  if (typeof canary !== 'object' || canary === null) throw new TypeError('canary is { version, percent }');
  const { version, percent } = canary as Record<string, unknown>;
  if (typeof version !== 'string' || !VERSION_PATTERN.test(version)) {
    throw new TypeError(`canary.version is a non-empty version: a tag, a sha256 digest or a hub revision (got ${JSON.stringify(version)})`);
  }
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new TypeError(`canary.percent is a number above 0 and at most 100 (got ${JSON.stringify(percent)})`);
  }
}

/** Defines a function, what a file in `functions/` exports by default: `export default defineFunction({ task, model })`. */
export function defineFunction<Endpoint extends TaskEndpoint<any, any, any, any>, Schema extends AnswerSchema | undefined = undefined>(
  definition: FunctionDefinition<Endpoint, Schema>,
): HonnxFunction<Endpoint, Schema> {
  checkCanary(definition.canary);
  const at = definition.model.indexOf('@');
  if (at < 0) return { definition };
  const version = definition.model.slice(at + 1);
  if (at === 0 || !VERSION_PATTERN.test(version)) {
    throw new TypeError(`model "${definition.model}" is not "name@version": the version is a tag, a sha256 digest or a hub revision`);
  }
  return { definition: { ...definition, model: definition.model.slice(0, at), modelVersion: version } };
}
