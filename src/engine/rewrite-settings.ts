/** An on/off environment switch: 1/true/on or 0/false/off, `fallback` when unset; anything else is an error naming it. */
function readSwitch(name: string, fallback: boolean, environment: NodeJS.ProcessEnv): boolean {
  const value = environment[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (value === '1' || value === 'true' || value === 'on') return true;
  if (value === '0' || value === 'false' || value === 'off') return false;
  throw new Error(`${name} must be 1 or 0 (got "${environment[name]}")`);
}

/** HONNX_INT8_MATMUL: int8 MatMulNBits at load; off unless set. */
export function readInt8MatMulSetting(environment: NodeJS.ProcessEnv = process.env): boolean {
  return readSwitch('HONNX_INT8_MATMUL', false, environment);
}

/** HONNX_GROUP_QUERY_ATTENTION: GroupQueryAttention in optimum decoders that ask for it; on unless set to 0. */
export function readGroupQueryAttentionSetting(environment: NodeJS.ProcessEnv = process.env): boolean {
  return readSwitch('HONNX_GROUP_QUERY_ATTENTION', true, environment);
}
