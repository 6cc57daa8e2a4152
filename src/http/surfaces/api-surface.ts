import type { Context, Hono } from 'hono';
import type { FunctionHost } from '../../serving/function-host.ts';
import type { FunctionEnv } from '../function-env.ts';

/**
 * Lets a request into a function once its surface knows which one serves it: sets the request's `functionHost` and
 * `functionName` (the request log, metrics and the function's limits read them) and checks the function's API
 * keys. Gives the 401 to answer, or undefined (at once, when nothing guards the function) when the request may go on.
 */
export type EnterFunction = (c: Context, host: FunctionHost) => Response | undefined | Promise<Response | undefined>;

/** What a surface mounts its routes with. */
export interface SurfaceContext {
  /** Every function the server serves, in mount order. */
  hosts: readonly FunctionHost[];
  enter: EnterFunction;
  /**
   * Checks the server's keys for what a surface answers without a function (a list of models, the 404 of a model no
   * function serves): the 401 to answer, or undefined.
   */
  enterServer(c: Context): Response | undefined | Promise<Response | undefined>;
}

/**
 * One API shape over the server's functions: its routes, its request envelope and its stream framing, mapped onto
 * each function's transport-free `submit`. The Hugging Face routes (`POST /<function>`, `GET /<function>`) are one
 * surface; an OpenAI-style `/v1` is another, picking its function from the request body. A surface finds the
 * function of each request itself and calls `enter` before anything else, so auth, limits and metrics follow it.
 */
export interface ApiSurface {
  readonly name: string;
  /** Adds the surface's routes to the app. */
  mount(app: Hono<FunctionEnv>, context: SurfaceContext): void;
  /**
   * The function a path belongs to, when the surface can tell from the path alone: read before any route runs, so
   * that answers given before it (a shutdown's 503, a CORS preflight) are logged and counted for their function.
   */
  functionAt?(path: string): FunctionHost | undefined;
  /** Paths the surface answers that are not a function's, for the 404 that lists what is served. */
  describeRoutes?(hosts: readonly FunctionHost[]): string[];
}
