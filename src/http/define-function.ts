import { Hono } from 'hono';
import type { FunctionHost } from '../serving/function-host.ts';
import type { FunctionDefinition } from '../spec/function-definition.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import { answerFunctionRequest, describeFunction } from './function-handlers.ts';
import { respondJson } from './respond-json.ts';

/** Variables the runtime sets for each function's requests. */
export interface FunctionEnv {
  Variables: { functionHost: FunctionHost };
}

/** A honnx function: a Hono app answering `GET /` (what it is) and `POST /` (inference), plus its definition. */
export type HonnxFunction<Endpoint extends TaskEndpoint = TaskEndpoint> = Hono<FunctionEnv> & {
  readonly definition: FunctionDefinition<Endpoint>;
};

export function defineFunction<Endpoint extends TaskEndpoint<any, any, any, any>>(definition: FunctionDefinition<Endpoint>): HonnxFunction<Endpoint> {
  const app = new Hono<FunctionEnv>();
  app.get('/', (c) => respondJson(c, describeFunction(c.get('functionHost'))));
  app.post('/', (c) => answerFunctionRequest(c, c.get('functionHost')));
  return Object.assign(app, { definition });
}
