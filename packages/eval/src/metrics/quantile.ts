import { checkFiniteArray, fail } from '../util/check.js';

// Sample quantile with linear interpolation between order statistics (Hyndman & Fan 1996, type 7):
// the default of numpy.percentile, R's quantile() and vLLM's benchmark_serving percentiles.

/** The q-quantile (q in [0, 1]) of `values`. */
export function quantile(values: ArrayLike<number>, q: number): number {
  checkFiniteArray('quantile', 'values', values, { minLength: 1 });
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) fail('quantile', 'q', `must be in [0, 1] (got ${q})`);
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/** Quantile of already-sorted finite values (no checks; internal fast path). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

export function median(values: ArrayLike<number>): number {
  checkFiniteArray('median', 'values', values, { minLength: 1 });
  return quantileSorted(Float64Array.from(values).sort(), 0.5);
}
