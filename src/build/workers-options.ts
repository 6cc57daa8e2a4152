import type { FunctionDefinition, WorkersFunctionOptions } from '../spec/function-definition.ts';

export type { ModelDelivery, WorkersFunctionOptions } from '../spec/function-definition.ts';

export function readWorkersOptions(definition: FunctionDefinition): WorkersFunctionOptions {
  return definition.workers ?? {};
}
