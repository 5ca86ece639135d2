// A small seeded pseudo-random generator, one per request, so that a request with a `seed`
// samples the same tokens every time regardless of what else is in the batch. Math.random cannot
// be seeded, and a shared generator would make one request's draws depend on its neighbours'.
//
// The state is xoshiro128** (four 32-bit words), filled from the seed by splitmix32 so that
// nearby seeds (0, 1, 2…) still start from unrelated states.

export interface Random {
  /** A float uniformly distributed in [0, 1). */
  next(): number;
}

export function createRandom(seed: number): Random {
  let mix = seed >>> 0;
  const splitmix32 = (): number => {
    mix = (mix + 0x9e3779b9) >>> 0;
    let z = mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix32();
  let s1 = splitmix32();
  let s2 = splitmix32();
  let s3 = splitmix32();

  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };

  return { next: () => nextUint32() / 0x1_0000_0000 };
}

/** A seed for requests that did not ask for one. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
