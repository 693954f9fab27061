/**
 * @file Effective sample size (Kong, Liu & Wong 1994; Doucet & Johansen, "A Tutorial on Particle
 * Filtering and Smoothing", 2009, eq. 48): ESS = 1 / Σ w_i² for normalised weights w; it is N for
 * uniform weights and 1 when one particle holds all the mass.
 */
import { normalizeLogWeights, normalizeWeights } from './log-weights';

/** ESS of (not necessarily normalised) non-negative weights. */
export function effectiveSampleSize(weights: ArrayLike<number>): number {
  const w = normalizeWeights(weights, 'effectiveSampleSize');
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * w[i];
  return 1 / s;
}

/** ESS of log-weights (normalised by log-sum-exp first). */
export function effectiveSampleSizeOfLogWeights(logWeights: ArrayLike<number>): number {
  const w = normalizeLogWeights(logWeights);
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * w[i];
  return 1 / s;
}
