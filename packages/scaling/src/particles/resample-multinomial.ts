/**
 * @file Multinomial resampling (Douc & Cappé, "Comparison of resampling schemes for particle
 * filtering", ISPA 2005, arXiv:cs/0507025, §2.1; Gordon, Salmond & Smith 1993): n i.i.d. draws of
 * an ancestor index from Categorical(w), i.e. N_i ~ Multinomial(n; w_1..w_N). Implemented as the
 * inverse CDF at n uniforms, sorted (so one merge pass), ancestors returned in index order.
 */
import type { Philox } from '@hasten/core-tensor';
import { ancestorsOfSortedPositions } from './cdf';
import { normalizeWeights } from './log-weights';

export function resampleMultinomial(weights: ArrayLike<number>, n: number, rng: Philox): Int32Array {
  const w = normalizeWeights(weights, 'resampleMultinomial');
  const u = rng.uniform(n).sort();
  return ancestorsOfSortedPositions(w, u);
}
