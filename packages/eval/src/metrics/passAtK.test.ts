import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { passAtK } from './passAtK.js';

function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** 1 - C(n-c, k) / C(n, k) with exact integers, converted to a float at the end. */
function exactPassAtK(n: number, c: number, k: number): number {
  const num = binom(n - c, k);
  const den = binom(n, k);
  const scale = 1n << 80n;
  return 1 - Number((num * scale) / den) / 2 ** 80;
}

describe('passAtK (Chen et al. 2021, stable form)', () => {
  it('matches the combinatorial formula in exact arithmetic on random cases', () => {
    const rng = createRng(2021);
    for (let t = 0; t < 300; t++) {
      const n = 1 + rng.int(400);
      const c = rng.int(n + 1);
      const k = 1 + rng.int(n);
      expect(Math.abs(passAtK(n, c, k) - exactPassAtK(n, c, k))).toBeLessThan(1e-12);
    }
  });

  it('hand-computed values', () => {
    expect(passAtK(10, 0, 5)).toBe(0);
    expect(passAtK(10, 10, 1)).toBe(1);
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 15); // pass@1 = c/n
    expect(passAtK(5, 2, 2)).toBeCloseTo(1 - 3 / 10, 15); // 1 - C(3,2)/C(5,2)
    expect(passAtK(4, 2, 3)).toBe(1); // n - c < k
  });

  it('throws on c > n or k > n', () => {
    expect(() => passAtK(5, 6, 1)).toThrow('passAtK: c must be in [0, 5] (got 6)');
    expect(() => passAtK(5, 2, 6)).toThrow('passAtK: k must be in [1, 5] (got 6)');
    expect(() => passAtK(5, 2, 0)).toThrow(/k must be in/);
    expect(() => passAtK(5.5, 2, 1)).toThrow(/n must be an integer/);
  });
});
