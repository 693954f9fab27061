/**
 * @file Residual resampling (Douc & Cappé 2005, arXiv:cs/0507025, §2.2; Liu & Chen 1998): particle i
 * first gets ⌊n w_i⌋ copies deterministically; the remaining R = n − Σ⌊n w_i⌋ ancestors are drawn
 * multinomially from the residual weights r_i = (n w_i − ⌊n w_i⌋) / R. Ancestors are returned in
 * index order (deterministic copies and residual draws merged).
 */
import type { Philox } from '@hasten/core-tensor';
import { ancestorsOfSortedPositions } from './cdf';
import { normalizeWeights } from './log-weights';

export function resampleResidual(weights: ArrayLike<number>, n: number, rng: Philox): Int32Array {
  const w = normalizeWeights(weights, 'resampleResidual');
  const counts = new Int32Array(w.length);
  const residual = new Float64Array(w.length);
  let kept = 0;
  for (let i = 0; i < w.length; i++) {
    const nw = n * w[i];
    counts[i] = Math.floor(nw);
    residual[i] = nw - counts[i];
    kept += counts[i];
  }
  const rest = n - kept;
  if (rest > 0) {
    const extra = ancestorsOfSortedPositions(
      normalizeWeights(residual, 'resampleResidual (residual weights)'),
      rng.uniform(rest).sort(),
    );
    for (const a of extra) counts[a]++;
  } else {
    rng.uniform(0); // the stream advances the same way whether or not a residual draw is needed
  }
  const out = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < counts.length; i++) for (let c = 0; c < counts[i]; c++) out[j++] = i;
  return out;
}
