import { describe, expect, it } from 'vitest';
import { featureStatistics } from '../linalg/covariance.js';
import { createRng } from '../util/seededRng.js';
import { frechetDistance, frechetDistanceFromStatistics } from './frechetDistance.js';

const methods = ['jacobi', 'tridiagonal-qr', 'newton-schulz'] as const;

function gaussianRows(
  seed: number,
  n: number,
  d: number,
  scale: (j: number) => number,
  shift = 0,
): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, (_, j) => scale(j) * rng.normal() + shift),
  );
}

describe('frechetDistance', () => {
  it('matches scipy (numpy.cov + scipy.linalg.sqrtm, as pytorch-fid) on a fixed 6-D case', () => {
    const rng = createRng(11);
    const a = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => rng.normal()));
    const b = Array.from({ length: 40 }, () =>
      Array.from({ length: 6 }, (_, j) => (j + 1) * 0.5 * rng.normal() + (j === 0 ? 1 : 0)),
    );
    for (const method of methods) expect(frechetDistance(a, b, { method })).toBeCloseTo(9.71273265403762, 9);
  });

  it('is zero for identical sets and exactly |shift|^2 for a shifted copy', () => {
    const a = gaussianRows(1, 60, 8, (j) => 1 + j / 4);
    for (const method of methods) {
      expect(Math.abs(frechetDistance(a, a, { method }))).toBeLessThan(1e-9);
      let prev = 0;
      for (const s of [0.1, 0.5, 1, 2]) {
        const b = a.map((row) => row.map((v) => v + s));
        const fd = frechetDistance(a, b, { method });
        expect(fd).toBeCloseTo(8 * s * s, 8); // covariance unchanged: only the mean term remains
        expect(fd).toBeGreaterThan(prev);
        prev = fd;
      }
    }
  });

  it('1-D: equals (mu1 - mu2)^2 + (s1 - s2)^2 of the sample statistics', () => {
    const a = gaussianRows(2, 200, 1, () => 1);
    const b = gaussianRows(3, 150, 1, () => 2.5, 0.7);
    const sa = featureStatistics(a);
    const sb = featureStatistics(b);
    const expected = (sa.mean[0]! - sb.mean[0]!) ** 2 + (Math.sqrt(sa.cov[0]!) - Math.sqrt(sb.cov[0]!)) ** 2;
    for (const method of methods) expect(frechetDistance(a, b, { method })).toBeCloseTo(expected, 10);
  });

  it('the three square-root methods agree on correlated 24-D features', () => {
    const rng = createRng(4);
    const d = 24;
    const mix = Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d));
    const gen = (shift: number) =>
      Array.from({ length: 80 }, () => {
        const z = Array.from({ length: d }, () => rng.normal());
        return Array.from({ length: d }, (_, i) => {
          let s = shift + 0.2 * z[i]!;
          for (let k = 0; k < d; k++) s += mix[i * d + k]! * z[k]!;
          return s;
        });
      });
    const a = gen(0);
    const b = gen(0.2);
    const ref = frechetDistance(a, b);
    expect(ref).toBeGreaterThan(0);
    expect(frechetDistance(a, b, { method: 'tridiagonal-qr' })).toBeCloseTo(ref, 9);
    expect(frechetDistance(a, b, { method: 'newton-schulz' })).toBeCloseTo(ref, 6);
    // Precomputed statistics give the same answer.
    expect(frechetDistanceFromStatistics(featureStatistics(a), featureStatistics(b))).toBeCloseTo(ref, 10);
  });

  it('rank-deficient covariances: eigen methods work, Newton–Schulz refuses', () => {
    const a = gaussianRows(5, 4, 10, () => 1); // 4 samples in 10-D: rank 3
    const b = gaussianRows(6, 4, 10, () => 1);
    const j = frechetDistance(a, b);
    // sqrt of eigenvalues that are zero up to rounding (1e-16) contributes ~1e-8, hence the tolerance.
    expect(frechetDistance(a, b, { method: 'tridiagonal-qr' })).toBeCloseTo(j, 6);
    expect(() => frechetDistance(a, b, { method: 'newton-schulz' })).toThrow(/did not converge|diverged/);
  });

  it('rejects mismatched dims and bad rows', () => {
    expect(() =>
      frechetDistance(
        [
          [1, 2],
          [3, 4],
        ],
        [[1], [2]],
      ),
    ).toThrow(/b has 1 feature dims, a has 2/);
    expect(() =>
      frechetDistance(
        [[1, 2], [3]],
        [
          [1, 2],
          [2, 1],
        ],
      ),
    ).toThrow(/features\[1\] must have length 2/);
    expect(() =>
      frechetDistance(
        [
          [1, Number.NaN],
          [3, 4],
        ],
        [
          [1, 2],
          [2, 1],
        ],
      ),
    ).toThrow(/must be finite/);
    expect(() =>
      frechetDistance(
        [[1, 2]],
        [
          [1, 2],
          [2, 1],
        ],
      ),
    ).toThrow(/at least 2 rows/);
    expect(() => frechetDistance([[1], [2]], [[1], [2]], { method: 'svd' as 'jacobi' })).toThrow(
      /options\.method/,
    );
  });
});
