/** IEEE 754 half-precision bits of a number, rounded to nearest even, as numpy's float16 cast and ggml's FP32_TO_FP16 do. */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

export function toFloat16Bits(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the implicit bit in and round.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const rounded = roundShift(mantissa, shift);
    return sign | rounded;
  }
  const rounded = roundShift(mantissa, 13);
  // A carry out of the mantissa bumps the exponent, which is exactly right (and gives infinity at the top).
  halfExponent += rounded >>> 10;
  return sign | (halfExponent << 10) | (rounded & 0x3ff);
}

function roundShift(value: number, shift: number): number {
  const truncated = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (remainder > half || (remainder === half && (truncated & 1) === 1)) return truncated + 1;
  return truncated;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The nearest float16 value, as a number: what a weight becomes once stored in half precision. */
export function roundToFloat16(value: number): number {
  return fromFloat16Bits(toFloat16Bits(value));
}

export function toFloat16Array(values: Float32Array): Uint16Array {
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) result[index] = toFloat16Bits(values[index]);
  return result;
}
