import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { countsOf, repeatedCounts, sumColumns } from '../testing/counts';
import { resampleSystematic } from './resample-systematic';

const ALPHA = 1e-3;

describe('resampleSystematic', () => {
  it('gives exactly n·w_i copies when n·w_i are integers, for every seed', () => {
    for (let seed = 0; seed < 50; seed++) {
      expect(countsOf(resampleSystematic([0.25, 0.5, 0, 0.25], 4, rng(seed)), 4)).toEqual([1, 2, 0, 1]);
      expect(countsOf(resampleSystematic([1, 2, 3, 2], 16, rng(seed)), 4)).toEqual([2, 4, 6, 4]);
    }
  });

  it('gives ⌊n w_i⌋ or ⌈n w_i⌉ copies on fresh random weights', () => {
    const r = rng(5);
    for (let trial = 0; trial < 100; trial++) {
      const w = Array.from(r.uniform(6));
      const s = w.reduce((a, b) => a + b, 0);
      const c = countsOf(resampleSystematic(w, 13, r), 6);
      c.forEach((ci, i) => {
        const nw = (13 * w[i]) / s;
        expect(ci === Math.floor(nw) || ci === Math.ceil(nw)).toBe(true);
      });
    }
  });

  it('is unbiased: pooled copies match n·w (chi-square, conservative as the counts vary less than multinomial)', () => {
    const w = [0.13, 0.29, 0.07, 0.51];
    const pooled = sumColumns(repeatedCounts(resampleSystematic, w, 7, 3000, 6));
    expect(
      chiSquareTest(
        pooled,
        w.map((v) => v * 21000),
      ).p,
    ).toBeGreaterThan(ALPHA);
    const mean = pooled.map((c) => c / 3000);
    for (let i = 0; i < mean.length; i++) expect(mean[i]).toBeCloseTo(7 * w[i], 1);
  });
});
