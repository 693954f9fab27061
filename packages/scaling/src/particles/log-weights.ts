/**
 * @file Log-weight arithmetic of the particle kernel, in f64: log-sum-exp (subtract the max, so
 * exp never overflows), normalisation w_i = exp(lw_i − LSE(lw)), the tempered softmax
 * p_i ∝ exp(lw_i / T) that Puri et al. (arXiv 2502.01618) and its_hub use for PRM-weighted
 * particles, and the logit (inverse sigmoid) that turns a PRM probability into a log-weight.
 */
import { ScalingError } from '../errors';

/** log Σ exp(x_i); −Infinity for an empty array or all −Infinity; NaN or +Infinity is an error. */
export function logSumExp(x: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
      throw new ScalingError(
        'input',
        `logSumExp: value at index ${i} is ${v}; log-weights must be finite or -Infinity`,
      );
    }
    if (v > m) m = v;
  }
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

/** Normalised weights exp(lw_i / T − LSE(lw / T)); an all −Infinity input is an error. */
export function normalizeLogWeights(logWeights: ArrayLike<number>, temperature = 1): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ScalingError(
      'input',
      `normalizeLogWeights: temperature must be finite and > 0, got ${temperature}`,
    );
  }
  const scaled = Float64Array.from(logWeights, (v) => v / temperature);
  const lse = logSumExp(scaled);
  if (lse === Number.NEGATIVE_INFINITY) {
    throw new ScalingError(
      'input',
      'normalizeLogWeights: every log-weight is -Infinity (no particle has weight)',
    );
  }
  return scaled.map((v) => Math.exp(v - lse));
}

/**
 * Normalise non-negative weights to sum 1. Negative, NaN or infinite weights, and an all-zero
 * vector, are errors naming `where`.
 */
export function normalizeWeights(weights: ArrayLike<number>, where = 'normalizeWeights'): Float64Array {
  if (weights.length === 0) throw new ScalingError('input', `${where}: needs at least one weight`);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new ScalingError(
        'input',
        `${where}: weight at index ${i} is ${w}; weights must be finite and >= 0`,
      );
    }
    s += w;
  }
  if (!(s > 0)) throw new ScalingError('input', `${where}: all weights are 0`);
  return Float64Array.from(weights, (w) => w / s);
}

/**
 * logit(p) = log(p / (1 − p)), with p clamped to [eps, 1 − eps] so a PRM's 0 or 1 stays finite
 * (Puri et al.: `logit = inverse_sigmoid(r)`).
 */
export function logit(p: number, eps = 1e-7): number {
  if (!(p >= 0 && p <= 1)) throw new ScalingError('input', `logit: probability must be in [0, 1], got ${p}`);
  const q = Math.min(1 - eps, Math.max(eps, p));
  return Math.log(q) - Math.log1p(-q);
}
