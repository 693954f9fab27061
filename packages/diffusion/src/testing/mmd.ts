/**
 * @file Squared maximum mean discrepancy (Gretton et al., JMLR 2012) between samples and a
 * Gaussian-mixture target, with a Gaussian kernel k(x, y) = exp(−|x − y|²/(2ℓ²)), using the
 * target's closed-form kernel means instead of a second sample (no reference-sample noise):
 *   MMD² = mean_{i≠j} k(x_i, x_j) − 2·mean_i E_{y∼p} k(x_i, y) + E_{y,y'∼p} k(y, y')
 *   E_{y∼N(μ, diag s²)} k(x, y) = Π_d (ℓ²/(ℓ² + s_d²))^{1/2} exp(−(x_d − μ_d)²/(2(ℓ² + s_d²)))
 *   E_{y∼N(μ_j, S_j), y'∼N(μ_k, S_k)} k(y, y') = Π_d (ℓ²/(ℓ² + s_jd² + s_kd²))^{1/2} exp(−(μ_jd − μ_kd)²/(2(ℓ² + s_jd² + s_kd²)))
 * The first term is the unbiased U-statistic, so the estimate is unbiased (it can be slightly < 0).
 */
import type { GaussianMixture } from './gaussian-mixture';

export function mmd2ToMixture(
  x: Float64Array,
  mix: GaussianMixture,
  lengthscale: number,
  label?: number,
): number {
  const d = mix.dim;
  const n = x.length / d;
  if (!Number.isInteger(n) || n < 2) throw new Error(`mmd2ToMixture: need at least 2 items of dim ${d}`);
  const l2 = lengthscale * lengthscale;
  const w = mix.classWeights(label);
  let xx = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let r = 0;
      for (let k = 0; k < d; k++) r += (x[i * d + k] - x[j * d + k]) ** 2;
      xx += Math.exp(-r / (2 * l2));
    }
  }
  xx = (2 * xx) / (n * (n - 1));
  let xp = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < mix.k; c++) {
      if (w[c] === 0) continue;
      let logv = 0;
      for (let k = 0; k < d; k++) {
        const v = l2 + mix.v[c * d + k];
        logv += 0.5 * Math.log(l2 / v) - (x[i * d + k] - mix.mu[c * d + k]) ** 2 / (2 * v);
      }
      xp += w[c] * Math.exp(logv);
    }
  }
  xp /= n;
  let pp = 0;
  for (let a = 0; a < mix.k; a++) {
    for (let b = 0; b < mix.k; b++) {
      if (w[a] === 0 || w[b] === 0) continue;
      let logv = 0;
      for (let k = 0; k < d; k++) {
        const v = l2 + mix.v[a * d + k] + mix.v[b * d + k];
        logv += 0.5 * Math.log(l2 / v) - (mix.mu[a * d + k] - mix.mu[b * d + k]) ** 2 / (2 * v);
      }
      pp += w[a] * w[b] * Math.exp(logv);
    }
  }
  return xx - 2 * xp + pp;
}
