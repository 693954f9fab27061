/**
 * @file Stratified resampling (Douc & Cappé 2005, arXiv:cs/0507025, §2.3; Kitagawa 1996): one
 * independent uniform per stratum, u_j = (j + U_j) / n with U_j ~ U[0, 1), read through the inverse
 * CDF. Unbiased counts with variance no larger than multinomial's.
 */
import type { Philox } from '@hasten/core-tensor';
import { ancestorsOfSortedPositions } from './cdf';
import { normalizeWeights } from './log-weights';

export function resampleStratified(weights: ArrayLike<number>, n: number, rng: Philox): Int32Array {
  const w = normalizeWeights(weights, 'resampleStratified');
  const u = rng.uniform(n);
  const pos = new Float64Array(n);
  for (let j = 0; j < n; j++) pos[j] = (j + u[j]) / n;
  return ancestorsOfSortedPositions(w, pos);
}
