import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { jacobiEigen } from './jacobiEigen.js';
import { matmul } from './matrix.js';
import { newtonSchulzSqrt } from './newtonSchulzSqrt.js';
import { sqrtPsd } from './sqrtPsd.js';
import { tridiagonalQlEigen } from './tridiagonalQlEigen.js';

function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const g = Float64Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += g[i * n + k]! * g[j * n + k]!;
      a[i * n + j] = s / n;
    }
  return a;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('symmetric eigensolvers', () => {
  it('2x2 by hand: [[2,1],[1,2]] has eigenvalues 1 and 3', () => {
    for (const eig of [jacobiEigen, tridiagonalQlEigen]) {
      const { values } = eig(Float64Array.of(2, 1, 1, 2), 2);
      expect(Array.from(values).sort()).toEqual([expect.closeTo(1, 14), expect.closeTo(3, 14)]);
    }
  });

  it('A v = lambda v and the methods agree on a random 30x30 SPD matrix', () => {
    const n = 30;
    const a = randomSpd(n, 1);
    const j = jacobiEigen(a, n);
    const q = tridiagonalQlEigen(a, n);
    for (const { values, vectors } of [j, q]) {
      for (let e = 0; e < n; e++) {
        for (let i = 0; i < n; i++) {
          let av = 0;
          for (let k = 0; k < n; k++) av += a[i * n + k]! * vectors[e * n + k]!;
          expect(Math.abs(av - values[e]! * vectors[e * n + i]!)).toBeLessThan(1e-11);
        }
      }
    }
    expect(maxAbsDiff(j.values.slice().sort(), q.values.slice().sort())).toBeLessThan(1e-12);
  });

  it('square roots square back to the matrix', () => {
    const n = 20;
    const a = randomSpd(n, 2);
    for (const r of [sqrtPsd(a, n, 'jacobi'), sqrtPsd(a, n, 'tridiagonal-ql'), newtonSchulzSqrt(a, n).sqrt]) {
      expect(maxAbsDiff(matmul(r, r, n), a)).toBeLessThan(1e-9);
    }
    expect(() => jacobiEigen(new Float64Array(3), 2)).toThrow(/must have n\*n = 4 entries/);
  });
});
