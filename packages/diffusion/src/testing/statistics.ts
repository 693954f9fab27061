/**
 * @file Statistical checks of sampler output against a Gaussian-mixture target at fixed seeds:
 * the largest z-score of the sample mean (|m̂_i − m_i| / (s_i/√n)), the relative Frobenius error
 * of the sample covariance, and Pearson's chi-square of component occupancy (each sample assigned
 * to its most probable component; expected frequencies from 200 000 exact target samples
 * classified the same way), with its critical value at p = 0.001.
 */
import { rng } from '@hasten/core-tensor';
import { sample } from '../sample';
import type { Denoiser, Scheduler, SetTimestepsOptions } from '../types';
import type { GaussianMixture, GaussianMixtureSpec } from './gaussian-mixture';

/** Two overlapping components in 2-D: smooth trajectories, for convergence orders. */
export const SMOOTH_2D: GaussianMixtureSpec = {
  weights: [0.4, 0.6],
  means: [
    [-1, 0.5],
    [1, -0.5],
  ],
  stds: [0.7, [0.5, 0.9]],
};

/** χ²(p = 0.001) critical values by degrees of freedom 1..6. */
const CHI2_CRIT_001 = [10.828, 13.816, 16.266, 18.467, 20.515, 22.458];

export interface SampleStats {
  mean: Float64Array;
  cov: Float64Array;
}

export function sampleStats(x: Float64Array, d: number): SampleStats {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let b = 0; b < n; b++) for (let i = 0; i < d; i++) mean[i] += x[b * d + i] / n;
  const cov = new Float64Array(d * d);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++)
        cov[i * d + j] += ((x[b * d + i] - mean[i]) * (x[b * d + j] - mean[j])) / (n - 1);
    }
  }
  return { mean, cov };
}

export interface StatsReport {
  meanZ: number;
  covRelErr: number;
  chi2: number;
  chi2Critical: number;
}

/** Compare samples `x` (n·d) with the (class-restricted) target. */
export function compareWithTarget(mix: GaussianMixture, x: Float64Array, label?: number): StatsReport {
  const d = mix.dim;
  const n = x.length / d;
  const { mean, cov } = sampleStats(x, d);
  const m = mix.mean(label);
  const c = mix.covariance(label);
  let meanZ = 0;
  for (let i = 0; i < d; i++) meanZ = Math.max(meanZ, Math.abs(mean[i] - m[i]) / Math.sqrt(c[i * d + i] / n));
  let num = 0;
  let den = 0;
  for (let i = 0; i < d * d; i++) {
    num += (cov[i] - c[i]) ** 2;
    den += c[i] ** 2;
  }
  // occupancy
  const ref = mix.sample(200_000, rng(12345), label).x;
  const pRef = new Float64Array(mix.k);
  for (const j of mix.classify(ref)) pRef[j] += 1 / 200_000;
  const counts = new Float64Array(mix.k);
  for (const j of mix.classify(x)) counts[j]++;
  let chi2 = 0;
  let dof = -1;
  for (let j = 0; j < mix.k; j++) {
    const e = pRef[j] * n;
    if (e < 1e-9) {
      if (counts[j] > 0) chi2 = Infinity;
      continue;
    }
    chi2 += (counts[j] - e) ** 2 / e;
    dof++;
  }
  return {
    meanZ,
    covRelErr: Math.sqrt(num / den),
    chi2,
    chi2Critical: dof > 0 ? CHI2_CRIT_001[dof - 1] : Infinity,
  };
}

/** Sample n items with `scheduler` and `denoiser` from seed `seed` and compare with the target. */
export function statsCheck(
  mix: GaussianMixture,
  scheduler: Scheduler,
  denoiser: Denoiser<(number | null)[]>,
  schedule: SetTimestepsOptions,
  n: number,
  seed: number,
  label?: number,
): StatsReport {
  const cond = label === undefined ? undefined : new Array<number>(n).fill(label);
  const r = sample(scheduler, denoiser, { ...schedule, batch: n, dim: mix.dim, generator: rng(seed), cond });
  return compareWithTarget(mix, r.sample, label);
}
