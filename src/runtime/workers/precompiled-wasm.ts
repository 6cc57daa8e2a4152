/**
 * Workers refuse to compile WebAssembly from bytes at run time ("Wasm code generation disallowed by embedder")
 * and give `import.meta.url` as "", so ONNX Runtime can neither fetch nor compile its own binary there. The
 * binary is instead imported as a module that the platform compiles at upload (wrangler's CompiledWasm rule),
 * ORT is handed a placeholder "binary override", and its one `WebAssembly.instantiate(bytes, imports)` call is
 * answered with an instance of the precompiled module.
 */

// Recognisable bytes, so that only ORT's instantiate call is redirected and any other WebAssembly is left alone.
const PLACEHOLDER = new Uint8Array([0x68, 0x6f, 0x6e, 0x6e, 0x78, 0x2d, 0x6f, 0x72]);

function isPlaceholder(bytes: unknown): boolean {
  if (!ArrayBuffer.isView(bytes) && !(bytes instanceof ArrayBuffer)) return false;
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.byteLength === PLACEHOLDER.byteLength && view.every((byte, index) => byte === PLACEHOLDER[index]);
}

interface WasmSettings {
  wasmBinary?: ArrayBufferLike | Uint8Array;
}

const installed = new WeakMap<object, WebAssembly.Module>();

/**
 * Points ORT's WASM backend at `module`. Call before the first session is created; calling again with the
 * same settings object is harmless, with another module an error (one isolate runs one ORT build).
 */
export function usePrecompiledWasm(wasmSettings: WasmSettings, module: WebAssembly.Module): void {
  const known = installed.get(wasmSettings);
  if (known === module) return;
  if (known) throw new Error('onnxruntime-web is already wired to another precompiled WASM module in this isolate');
  installed.set(wasmSettings, module);
  wasmSettings.wasmBinary = PLACEHOLDER;
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (
    source: BufferSource | WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource>;
  (WebAssembly as { instantiate: unknown }).instantiate = async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    if (!isPlaceholder(source)) return instantiate(source, imports);
    const instance = (await instantiate(module, imports)) as WebAssembly.Instance;
    return { instance, module };
  };
}
