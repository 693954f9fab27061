/**
 * @file Systematic resampling (Douc & Cappé 2005, arXiv:cs/0507025, §2.4; Kitagawa 1996): one
 * uniform U ~ U[0, 1) and positions u_j = (j + U) / n, j = 0..n−1, read through the inverse CDF. Each
 * particle gets ⌊n w_i⌋ or ⌈n w_i⌉ copies; its_hub's `SYSTEMATIC` (`positions = (arange(N) + U) / N`).
 */
import type { Philox } from '@hasten/core-tensor';
import { ancestorsOfSortedPositions } from './cdf';
import { normalizeWeights } from './log-weights';

export function resampleSystematic(weights: ArrayLike<number>, n: number, rng: Philox): Int32Array {
  const w = normalizeWeights(weights, 'resampleSystematic');
  const u = rng.uniform(1)[0];
  const pos = new Float64Array(n);
  for (let j = 0; j < n; j++) pos[j] = (j + u) / n;
  return ancestorsOfSortedPositions(w, pos);
}
