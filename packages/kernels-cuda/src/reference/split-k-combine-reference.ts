/**
 * @file The split-K (flash-decoding) merge of native/attention_common.cuh, in f64. One query's keys
 * are cut into chunks; each chunk c reports m_c = max score, l_c = sum exp(s - m_c) and the
 * unnormalised acc_c = sum exp(s - m_c) v. The merge is exact softmax attention:
 *   M = max_c m_c,  L = sum_c l_c e^(m_c - M),  out = sum_c acc_c e^(m_c - M) / L
 * (online softmax: Milakov & Gimelshein, arXiv:1805.02867; flash-decoding: Dao et al., 2023,
 * https://crfm.stanford.edu/2023/10/12/flashdecoding.html). A chunk with no allowed key has
 * m = -Infinity, l = 0; a query with none at all gets zeros (core-tensor's sdpa convention).
 */

export interface SplitKPartial {
  m: number;
  l: number;
  acc: Float64Array;
}

/**
 * One chunk's partial: `scores` of its keys (-Infinity = masked), `values` [keys, Dv] row-major.
 */
export function splitKPartialReference(
  scores: ArrayLike<number>,
  values: ArrayLike<number>,
  Dv: number,
): SplitKPartial {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < scores.length; j++) m = Math.max(m, scores[j]);
  const acc = new Float64Array(Dv);
  let l = 0;
  if (m === Number.NEGATIVE_INFINITY) return { m, l, acc };
  for (let j = 0; j < scores.length; j++) {
    if (scores[j] === Number.NEGATIVE_INFINITY) continue;
    const p = Math.exp(scores[j] - m);
    l += p;
    for (let d = 0; d < Dv; d++) acc[d] += p * values[j * Dv + d];
  }
  return { m, l, acc };
}

/** Merge the chunks' partials into the attention output [Dv]. */
export function splitKCombineReference(partials: readonly SplitKPartial[], Dv: number): Float64Array {
  let M = Number.NEGATIVE_INFINITY;
  for (const p of partials) M = Math.max(M, p.m);
  const out = new Float64Array(Dv);
  if (M === Number.NEGATIVE_INFINITY) return out;
  let L = 0;
  for (const p of partials) {
    if (p.m === Number.NEGATIVE_INFINITY) continue;
    const w = Math.exp(p.m - M);
    L += p.l * w;
    for (let d = 0; d < Dv; d++) out[d] += p.acc[d] * w;
  }
  for (let d = 0; d < Dv; d++) out[d] /= L;
  return out;
}
