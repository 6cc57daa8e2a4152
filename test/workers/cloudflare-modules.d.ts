// The few Workers-runtime modules the workerd tests import, typed without the Workers type package.

declare module 'cloudflare:workers' {
  /** Bindings of the test worker: MODELS is the model service declared in vitest.config.ts. */
  export const env: {
    MODELS: { fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> };
  } & Record<string, unknown>;
}

declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
