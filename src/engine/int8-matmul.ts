/** `HONNX_INT8_MATMUL`: 1 or 0 (the default, unset); anything else is a mistake worth stopping for. */
export function readInt8MatMulSetting(environment: NodeJS.ProcessEnv = process.env): boolean {
  const value = environment.HONNX_INT8_MATMUL?.trim().toLowerCase();
  if (value === '1' || value === 'true' || value === 'on') return true;
  if (value === undefined || value === '' || value === '0' || value === 'false' || value === 'off') return false;
  throw new Error(`HONNX_INT8_MATMUL must be 1 or 0 (got "${environment.HONNX_INT8_MATMUL}")`);
}
