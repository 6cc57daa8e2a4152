import type { FunctionHost } from '../../serving/function-host.ts';
import { createOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from '../openapi/create-openapi-document.ts';
import { DOCS_PAGE } from '../openapi/docs-page.ts';
import { PLAYGROUND_PAGE } from './playground-page.ts';

/**
 * What `GET /openapi.json`, `GET /docs` and `GET /` serve. A runtime hands this to `createHonnxApp` to serve them;
 * left out, none of it (the pages and zod's JSON Schema writer, about 60 KB minified) reaches the bundle, which matters for a
 * per-function Workers script.
 */
export interface InterfacePages {
  describeApi(hosts: readonly FunctionHost[], options?: OpenApiOptions): OpenApiDocument;
  docsHtml: string;
  playgroundHtml: string;
}

/** The API pages (`/openapi.json`, `/docs`, the `/` playground) to hand `createHonnxApp({ functions, pages: interfacePages })`. */
export const interfacePages: InterfacePages = {
  describeApi: createOpenApiDocument,
  docsHtml: DOCS_PAGE,
  playgroundHtml: PLAYGROUND_PAGE,
};
