/**
 * IEEE 754 half precision, widened through a table: every one of the 65,536 bit patterns maps to its float32 value
 * (256 KB, built on first use). A 151,936-entry row of fp16 logits widens in a single typed-array pass instead of a
 * function call with `2 **` per element (11 ms per token measured on Qwen3's vocabulary).
 */
let table: Float32Array | undefined;

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function buildTable(): Float32Array {
  const values = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) values[bits] = halfToNumber(bits);
  return values;
}

/** Widens half-precision bit patterns to float32, into `target` when given (it must be at least as long). */
export function widenFloat16(halves: Uint16Array, target: Float32Array = new Float32Array(halves.length)): Float32Array {
  const values = (table ??= buildTable());
  for (let index = 0; index < halves.length; index++) target[index] = values[halves[index]];
  return target;
}
