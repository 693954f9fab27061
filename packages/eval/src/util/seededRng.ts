// A tiny seeded PRNG so eval stays free of other packages: xoshiro128** (Blackman & Vigna 2018,
// https://prng.di.unimi.it/) seeded through splitmix32. Not cryptographic; identical streams on every
// JS engine, so a seed reproduces bootstrap intervals, sliced-Wasserstein projections and task draws.

export interface Rng {
  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform uint32. */
  nextUint32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** In-place Fisher–Yates shuffle; returns the array. */
  shuffle<T>(items: T[]): T[];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be a finite number (got ${seed})`);
  // Fold the seed (possibly > 2^32 or fractional) into 32 bits deterministically.
  const hi = Math.floor(seed / 4294967296);
  const sm = splitmix32((seed >>> 0) ^ Math.imul(hi | 0, 0x27d4eb2d));
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  let spare: number | null = null;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  return {
    next,
    nextUint32,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`rng.int: n must be a positive integer (got ${n})`);
      return Math.floor(next() * n);
    },
    normal(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const u1 = 1 - next(); // (0, 1]
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = items[i]!;
        items[i] = items[j]!;
        items[j] = tmp;
      }
      return items;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
