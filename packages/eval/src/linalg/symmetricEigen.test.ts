import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { jacobiEigen } from './jacobiEigen.js';
import { matmul } from './matrix.js';
import { newtonSchulzSqrt } from './newtonSchulzSqrt.js';
import { sqrtPsd } from './sqrtPsd.js';
import { tridiagonalQrEigen } from './tridiagonalQrEigen.js';

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
    for (const eig of [jacobiEigen, tridiagonalQrEigen]) {
      const { values } = eig(Float64Array.of(2, 1, 1, 2), 2);
      expect(Array.from(values).sort()).toEqual([expect.closeTo(1, 14), expect.closeTo(3, 14)]);
    }
  });

  it('A v = lambda v and the methods agree on a random 30x30 SPD matrix', () => {
    const n = 30;
    const a = randomSpd(n, 1);
    const j = jacobiEigen(a, n);
    const q = tridiagonalQrEigen(a, n);
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

  it('closed form: the [-1, 2, -1] matrix has eigenvalues 2 - 2 cos(k pi / (n + 1))', () => {
    const n = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i + 1 < n) {
        a[i * n + i + 1] = -1;
        a[(i + 1) * n + i] = -1;
      }
    }
    const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    for (const values of [
      jacobiEigen(a, n).values,
      tridiagonalQrEigen(a, n).values,
      tridiagonalQrEigen(a, n, { vectors: false }).values,
    ]) {
      const got = values.slice().sort();
      for (let k = 0; k < n; k++) expect(Math.abs(got[k]! - expected[k]!)).toBeLessThan(1e-13);
    }
  });

  it('QR: orthonormal vectors for indefinite, repeated, diagonal, zero and 1x1 matrices', () => {
    const n = 12;
    const g = randomSpd(n, 3);
    // Indefinite with a repeated eigenvalue: A = U diag(-2, -2, 0, 0, 1, ..., 1, 5) U^T built from g's vectors.
    const u = jacobiEigen(g, n).vectors;
    const lambda = Array.from({ length: n }, (_, i) => (i < 2 ? -2 : i < 4 ? 0 : i === n - 1 ? 5 : 1));
    const built = new Float64Array(n * n);
    for (let k = 0; k < n; k++)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) built[i * n + j]! += lambda[k]! * u[k * n + i]! * u[k * n + j]!;
    const diagonal = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diagonal[i * n + i] = n - 2 * i;
    for (const [m, want] of [
      [built, lambda],
      [diagonal, Array.from({ length: n }, (_, i) => n - 2 * i)],
      [new Float64Array(n * n), new Array(n).fill(0)],
    ] as const) {
      const { values, vectors } = tridiagonalQrEigen(m, n);
      expect(maxAbsDiff(values.slice().sort(), Float64Array.from(want).sort())).toBeLessThan(1e-12);
      for (let p = 0; p < n; p++) {
        for (let q = 0; q < n; q++) {
          let dot = 0;
          for (let k = 0; k < n; k++) dot += vectors[p * n + k]! * vectors[q * n + k]!;
          expect(Math.abs(dot - (p === q ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
    expect(tridiagonalQrEigen(Float64Array.of(-3), 1)).toMatchObject({
      values: Float64Array.of(-3),
      vectors: Float64Array.of(1),
    });
    expect(() => tridiagonalQrEigen(new Float64Array(3), 2)).toThrow(/must have n\*n = 4 entries/);
    expect(() => tridiagonalQrEigen(Float64Array.of(1), 1, { vector: false } as never)).toThrow(
      /tridiagonalQrEigen: invalid options: Unrecognized key.*vector/,
    );
    expect(() => jacobiEigen(Float64Array.of(1), 1, { maxSweeps: 0 })).toThrow(/options\.maxSweeps/);
    expect(() => newtonSchulzSqrt(Float64Array.of(1), 1, { iterations: -1 })).toThrow(/options\.iterations/);
  });

  it('square roots square back to the matrix', () => {
    const n = 20;
    const a = randomSpd(n, 2);
    for (const r of [sqrtPsd(a, n, 'jacobi'), sqrtPsd(a, n, 'tridiagonal-qr'), newtonSchulzSqrt(a, n).sqrt]) {
      expect(maxAbsDiff(matmul(r, r, n), a)).toBeLessThan(1e-9);
    }
    expect(() => jacobiEigen(new Float64Array(3), 2)).toThrow(/must have n\*n = 4 entries/);
  });
});
