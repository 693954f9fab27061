/**
 * @file The inverse-CDF lookup every resampler shares: given sorted positions u_1 ≤ ... ≤ u_n in
 * [0, 1) and normalised weights, ancestor j of u is the first i with Σ_{k≤i} w_k > u. A single merge
 * pass, O(N + n).
 */
export function ancestorsOfSortedPositions(w: Float64Array, positions: ArrayLike<number>): Int32Array {
  const out = new Int32Array(positions.length);
  let i = 0;
  let cum = w[0];
  const last = w.length - 1;
  for (let j = 0; j < positions.length; j++) {
    // Rounding can leave Σw slightly below 1: positions past it go to the last particle with weight.
    while (positions[j] >= cum && i < last) cum += w[++i];
    let k = i;
    while (w[k] === 0 && k > 0) k--; // never pick a zero-weight particle through rounding at the end
    out[j] = k;
  }
  return out;
}
