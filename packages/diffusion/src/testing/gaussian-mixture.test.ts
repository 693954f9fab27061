import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { MIXTURE_2D } from './convergence';
import { GaussianMixture } from './gaussian-mixture';
import { compareWithTarget, sampleStats } from './statistics';

const mix = new GaussianMixture(MIXTURE_2D);

/** E[x0 | x_t] by brute-force importance weighting of exact target samples (readable reference). */
function monteCarloPosteriorMean(x: number[], alpha: number, sigma: number, n: number): number[] {
  const s = mix.sample(n, rng(77)).x;
  const num = [0, 0];
  let den = 0;
  for (let b = 0; b < n; b++) {
    let l = 0;
    for (let i = 0; i < 2; i++) l -= (x[i] - alpha * s[b * 2 + i]) ** 2 / (2 * sigma * sigma);
    const w = Math.exp(l);
    den += w;
    for (let i = 0; i < 2; i++) num[i] += w * s[b * 2 + i];
  }
  return num.map((v) => v / den);
}

describe('GaussianMixture', () => {
  it('exact samples match the target mean, covariance and weights', () => {
    const x = mix.sample(20000, rng(1)).x;
    const r = compareWithTarget(mix, x);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.05);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });

  it('the closed-form posterior mean agrees with a Monte Carlo estimate', () => {
    for (const [alpha, sigma] of [
      [0.8, 0.6],
      [0.3, 0.95],
    ]) {
      const x = [...rng(Math.round(alpha * 10)).normal(2)];
      const exact = mix.posteriorMean(Float64Array.from(x), alpha, sigma);
      const mc = monteCarloPosteriorMean(x, alpha, sigma, 200000);
      expect(exact[0]).toBeCloseTo(mc[0], 1);
      expect(exact[1]).toBeCloseTo(mc[1], 1);
    }
  });

  it('its predictions are consistent across epsilon, v, sample and flow parameterisations', () => {
    const x = rng(3).normal(6);
    const alphasCumprod = Float64Array.from({ length: 1000 }, (_, i) => Math.exp(-0.005 * (i + 1)));
    const eps = mix.denoiser({ kind: 'vp', alphasCumprod }, 'epsilon')(x, 400, null);
    const x0 = mix.denoiser({ kind: 'vp', alphasCumprod }, 'sample')(x, 400, null);
    const v = mix.denoiser({ kind: 'vp', alphasCumprod }, 'v_prediction')(x, 400, null);
    const a = Math.sqrt(alphasCumprod[400]);
    const s = Math.sqrt(1 - alphasCumprod[400]);
    for (let k = 0; k < 6; k++) {
      expect(a * x0[k] + s * eps[k]).toBeCloseTo(x[k], 12);
      expect(v[k]).toBeCloseTo(a * eps[k] - s * x0[k], 12);
    }
    const fv = mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction')(x, 300, null);
    const fx0 = mix.posteriorMean(x, 0.7, 0.3);
    for (let k = 0; k < 6; k++) expect(x[k] - 0.3 * fv[k]).toBeCloseTo(fx0[k], 12);
  });

  it('class labels restrict the target to their components', () => {
    const x = mix.sample(5000, rng(4), 2).x;
    expect([...new Set(mix.classify(x))]).toEqual([2]);
    const r = compareWithTarget(mix, x, 2);
    expect(r.meanZ).toBeLessThan(4);
    expect(() => mix.classWeights(7)).toThrow(/no component has label 7/);
  });

  it('the ODE reference converges (RK4: halving the steps changes it by < 1e-8)', () => {
    const z = rng(5)
      .normal(8)
      .map((v) => v * 80);
    const a = mix.odeSolve(z, 80, 0.02, 1000);
    const b = mix.odeSolve(z, 80, 0.02, 2000);
    for (let k = 0; k < 8; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-8);
    // the PF-ODE maps N(0, σ²) at large σ to the target: its endpoints have the target's statistics
    const many = rng(6)
      .normal(2000 * 2)
      .map((v) => v * 80);
    const end = mix.odeSolve(many, 80, 0, 400);
    const { mean } = sampleStats(end, 2);
    const m = mix.mean();
    expect(Math.abs(mean[0] - m[0])).toBeLessThan(0.15);
    expect(Math.abs(mean[1] - m[1])).toBeLessThan(0.15);
  });

  it('rejects inconsistent specs', () => {
    expect(() => new GaussianMixture({ weights: [1], means: [[0, 0]], stds: [0] })).toThrow(/stds\.0/);
    expect(
      () => new GaussianMixture({ weights: [1], means: [[0, 0]], stds: [1], weight: 2 } as never),
    ).toThrow(/weight.*allowed/);
    expect(() => new GaussianMixture({ weights: [1], means: [[0, 0]], stds: [[1, 1, 1]] })).toThrow(
      /expected 1 or 2/,
    );
    expect(() => new GaussianMixture({ weights: [1, 1], means: [[0]], stds: [1, 1] })).toThrow(/same length/);
  });
});
