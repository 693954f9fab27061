import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { repeatedCounts, sumColumns } from '../testing/counts';
import { resampleMultinomial } from './resample-multinomial';
import { resampleStratified } from './resample-stratified';

const ALPHA = 1e-3;
const W = [0.13, 0.29, 0.07, 0.51];

describe('resampleStratified', () => {
  it('is unbiased: pooled copies match n·w (chi-square at a fixed seed)', () => {
    const pooled = sumColumns(repeatedCounts(resampleStratified, W, 7, 3000, 7));
    expect(
      chiSquareTest(
        pooled,
        W.map((v) => v * 21000),
      ).p,
    ).toBeGreaterThan(ALPHA);
  });

  it('keeps every count within 2 of n·w_i and varies less than multinomial', () => {
    const rows = repeatedCounts(resampleStratified, W, 7, 2000, 8);
    for (const r of rows)
      for (let i = 0; i < r.length; i++) expect(Math.abs(r[i] - 7 * W[i])).toBeLessThan(2);
    const variance = (rs: number[][]) => {
      const m = rs.reduce((s, r) => s + r[3], 0) / rs.length;
      return rs.reduce((s, r) => s + (r[3] - m) ** 2, 0) / rs.length;
    };
    // Var of multinomial copies of particle 3: n w (1 − w) = 1.7493.
    expect(variance(rows)).toBeLessThan(variance(repeatedCounts(resampleMultinomial, W, 7, 2000, 9)));
  });
});
