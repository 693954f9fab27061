import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { MIXTURE_2D } from './convergence';
import { GaussianMixture } from './gaussian-mixture';
import { mmd2ToMixture } from './mmd';

/** Readable reference: the biased-free two-sample U-statistic MMD² against a large exact sample. */
function twoSampleMmd2(x: Float64Array, y: Float64Array, d: number, l: number): number {
  const k = (a: Float64Array, i: number, b: Float64Array, j: number) => {
    let r = 0;
    for (let t = 0; t < d; t++) r += (a[i * d + t] - b[j * d + t]) ** 2;
    return Math.exp(-r / (2 * l * l));
  };
  const n = x.length / d;
  const m = y.length / d;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) xx += k(x, i, x, j);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) yy += k(y, i, y, j);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) xy += k(x, i, y, j);
  return xx / (n * (n - 1)) + yy / (m * (m - 1)) - (2 * xy) / (n * m);
}

describe('mmd2ToMixture', () => {
  it('agrees with a two-sample estimate against exact target samples', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    // a shifted sample, so MMD² is well above the estimator noise
    const x = mix.sample(400, rng(1)).x.map((v, i) => v + (i % 2 === 0 ? 0.4 : 0));
    const ref = twoSampleMmd2(x, mix.sample(3000, rng(2)).x, 2, 0.7);
    const exact = mmd2ToMixture(x, mix, 0.7);
    expect(exact).toBeGreaterThan(0.01);
    expect(Math.abs(exact - ref)).toBeLessThan(0.15 * ref);
  });

  it('is near zero (within noise) for exact samples and positive for a collapsed sample', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    const exactSamples = mix.sample(1000, rng(3)).x;
    expect(Math.abs(mmd2ToMixture(exactSamples, mix, 0.7))).toBeLessThan(2e-3);
    const collapsed = new Float64Array(2000).fill(0.5);
    expect(mmd2ToMixture(collapsed, mix, 0.7)).toBeGreaterThan(0.1);
  });
});
