import type { SessionOptions } from '../../engine/engine.ts';
import type { FunctionDefinition } from '../../spec/function-definition.ts';

/** The session options a function's definition asks of the native engine; the engine's defaults fill the rest. */
export function readSessionOptions(definition: Pick<FunctionDefinition, 'int8MatMul'>): SessionOptions | undefined {
  return definition.int8MatMul === undefined ? undefined : { int8MatMul: definition.int8MatMul };
}
