/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/** Spreads any integer seed over 32 bits (splitmix32), so that nearby seeds start far apart. */
function mixSeed(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/**
 * xoshiro128** seeded from `seed`: the same seed gives the same stream on every engine and host,
 * which is what makes `seed` in a request reproduce a sampled answer.
 */
export function createSeededRandom(seed: number): RandomSource {
  // Seeds above 2^32 (JSON allows up to 2^53) keep their high bits by folding them into the mix.
  const high = Math.floor(seed / 0x1_0000_0000);
  const next = mixSeed((seed >>> 0) ^ Math.imul(high >>> 0, 0x85ebca6b));
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const result = Math.imul(rotateLeft(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotateLeft(d, 11);
    return result / 0x1_0000_0000;
  };
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** A seed for requests that gave none. */
export function createRandomSeed(): number {
  const words = new Uint32Array(1);
  globalThis.crypto.getRandomValues(words);
  return words[0];
}
