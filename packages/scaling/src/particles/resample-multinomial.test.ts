import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { repeatedCounts, sumColumns } from '../testing/counts';
import { resampleMultinomial } from './resample-multinomial';

// Significance of the goodness-of-fit tests: at a fixed seed a correct sampler fails with probability 1e-3.
const ALPHA = 1e-3;
const W = [0.1, 0.2, 0.3, 0.4];

describe('resampleMultinomial', () => {
  it('draws ancestors with probabilities w (chi-square over 2000 draws of 10, fixed seed)', () => {
    const rows = repeatedCounts(resampleMultinomial, W, 10, 2000, 1);
    const pooled = sumColumns(rows);
    expect(
      chiSquareTest(
        pooled,
        W.map((w) => w * 20000),
      ).p,
    ).toBeGreaterThan(ALPHA);
    // The test can fail: the same counts against other weights.
    expect(
      chiSquareTest(
        pooled,
        [0.25, 0.25, 0.25, 0.25].map((w) => w * 20000),
      ).p,
    ).toBeLessThan(ALPHA);
  });

  it('gives each particle a Binomial(n, w_i) number of copies (chi-square on the copy histogram)', () => {
    const rows = repeatedCounts(resampleMultinomial, W, 10, 3000, 2);
    const hist = new Array(11).fill(0);
    for (const r of rows) hist[r[3]]++;
    const binom = (k: number) => {
      let c = 1;
      for (let i = 0; i < k; i++) c = (c * (10 - i)) / (i + 1);
      return c * 0.4 ** k * 0.6 ** (10 - k);
    };
    // Merge the tails (k <= 1, k >= 8) so every expected count is >= 5.
    const obs = [hist[0] + hist[1], ...hist.slice(2, 8), hist[8] + hist[9] + hist[10]];
    const exp = [binom(0) + binom(1), ...[2, 3, 4, 5, 6, 7].map(binom), binom(8) + binom(9) + binom(10)].map(
      (p) => p * 3000,
    );
    expect(chiSquareTest(obs, exp).p).toBeGreaterThan(ALPHA);
  });

  it('never picks a zero-weight particle, returns sorted ancestors, and is reproducible', () => {
    const a = resampleMultinomial([0, 1, 0, 3], 50, rng(3));
    expect(a.every((i) => i === 1 || i === 3)).toBe(true);
    expect(Array.from(a)).toEqual(Array.from(a).sort((x, y) => x - y));
    expect(Array.from(resampleMultinomial(W, 20, rng(4)))).toEqual(
      Array.from(resampleMultinomial(W, 20, rng(4))),
    );
  });
});
