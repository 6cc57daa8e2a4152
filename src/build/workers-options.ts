import type { FunctionDefinition, WorkersFunctionOptions } from '../http/define-function.ts';

export type { ModelDelivery, WorkersFunctionOptions } from '../http/define-function.ts';

export function readWorkersOptions(definition: FunctionDefinition): WorkersFunctionOptions {
  return definition.workers ?? {};
}
