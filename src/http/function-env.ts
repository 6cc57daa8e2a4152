import type { FunctionHost } from '../serving/function-host.ts';

/** Variables an API surface sets for a request once it knows which function serves it (`enterFunction`). */
export interface FunctionEnv {
  Variables: { functionHost: FunctionHost };
}
