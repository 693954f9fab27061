/**
 * @file Adaptive tempering by bisection on the ESS (Jasra, Stephens, Doucet & Tsagaris, "Inference
 * for Lévy-driven stochastic volatility models via adaptive sequential Monte Carlo", Scand. J. Stat.
 * 2011; Del Moral, Doucet & Jasra, "An adaptive SMC method for ABC", Stat. Comput. 2012): given the
 * current log-weights lw and log-likelihood increments ℓ (the potential to be tempered in), the next
 * inverse temperature is the largest β' ∈ (β, 1] with
 *   ESS(lw + (β' − β)·ℓ) ≥ target · N,
 * found by bisection (the ESS is continuous in β'; the target is met with equality unless β' = 1).
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import { effectiveSampleSizeOfLogWeights } from './effective-sample-size';

const AdaptiveTemperingOptions = z.strictObject({
  /** Target ESS as a fraction of N. */
  targetEss: z.number().gt(0).lt(1).default(0.5),
  /** Current inverse temperature β in [0, 1). */
  beta: z.number().min(0).lt(1),
  /** Bisection stops when the bracket is narrower than this. */
  tolerance: z.number().positive().default(1e-10),
});
export type AdaptiveTemperingOptions = z.input<typeof AdaptiveTemperingOptions>;

/** The next inverse temperature β' ∈ (β, 1]. */
export function adaptiveTemperingStep(
  logWeights: ArrayLike<number>,
  logLikelihood: ArrayLike<number>,
  options: AdaptiveTemperingOptions,
): number {
  const { targetEss, beta, tolerance } = parseOptions(
    AdaptiveTemperingOptions,
    options,
    'adaptiveTemperingStep',
  );
  const n = logWeights.length;
  const ess = (next: number) =>
    effectiveSampleSizeOfLogWeights(
      Float64Array.from(logWeights, (lw, i) => lw + (next - beta) * logLikelihood[i]),
    );
  const target = targetEss * n;
  if (ess(1) >= target) return 1;
  let lo = beta; // ESS(lo) >= target (the current weights; if not, the smallest step is taken)
  let hi = 1; // ESS(hi) < target
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    if (ess(mid) >= target) lo = mid;
    else hi = mid;
  }
  return lo > beta ? lo : Math.min(1, beta + tolerance);
}
