import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { countsOf, repeatedCounts, sumColumns } from '../testing/counts';
import { resampleResidual } from './resample-residual';

const ALPHA = 1e-3;

describe('resampleResidual', () => {
  it('is deterministic when n·w_i are integers', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(countsOf(resampleResidual([0.5, 0.25, 0.25], 8, rng(seed)), 3)).toEqual([4, 2, 2]);
    }
  });

  it('always gives at least ⌊n w_i⌋ copies (the deterministic part), by hand', () => {
    // n = 10, w = [0.34, 0.41, 0.25]: n w = [3.4, 4.1, 2.5] → floors [3, 4, 2], 1 residual draw.
    for (let seed = 0; seed < 50; seed++) {
      const c = countsOf(resampleResidual([0.34, 0.41, 0.25], 10, rng(seed)), 3);
      expect(c[0]).toBeGreaterThanOrEqual(3);
      expect(c[1]).toBeGreaterThanOrEqual(4);
      expect(c[2]).toBeGreaterThanOrEqual(2);
      expect(c[0] + c[1] + c[2]).toBe(10);
    }
  });

  it('draws the residual ancestors ∝ n w_i − ⌊n w_i⌋ (chi-square at a fixed seed)', () => {
    // Residuals [0.4, 0.1, 0.5] of the one extra draw.
    const rows = repeatedCounts(resampleResidual, [0.34, 0.41, 0.25], 10, 3000, 10);
    const extra = sumColumns(rows).map((c, i) => c - 3000 * [3, 4, 2][i]);
    expect(
      chiSquareTest(
        extra,
        [0.4, 0.1, 0.5].map((p) => p * 3000),
      ).p,
    ).toBeGreaterThan(ALPHA);
    expect(
      chiSquareTest(
        extra,
        [0.34, 0.41, 0.25].map((p) => p * 3000),
      ).p,
    ).toBeLessThan(ALPHA);
  });
});
