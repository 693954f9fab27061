/**
 * @file The device sampler's reference (native/kernels/sampling.cu, `sample`): inverse-CDF
 * categorical sampling with a given uniform, as core-tensor's sampleCategorical ('inverse-cdf'):
 *   w_j = exp((x_j - max x) / T) in f64, t = u * sum_j w_j, sample = first j with cumsum(w)_j > t;
 * T = 0 is the argmax (first index on ties). -Infinity logits have weight 0. If rounding leaves no
 * j (t at the very end), the last index with positive weight.
 */
export function sampleReference(logits: ArrayLike<number>, u: number, temperature: number): number {
  const V = logits.length;
  if (V === 0) throw new Error('sampleReference: needs at least one category');
  if (!(u >= 0 && u < 1)) throw new Error(`sampleReference: u must be in [0, 1), got ${u}`);
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
  if (temperature === 0) return best;
  const mx = logits[best];
  const w = new Float64Array(V);
  let total = 0;
  for (let j = 0; j < V; j++) {
    w[j] = Math.exp((logits[j] - mx) / temperature);
    total += w[j];
  }
  const t = u * total;
  let cum = 0;
  let lastPositive = best;
  for (let j = 0; j < V; j++) {
    cum += w[j];
    if (w[j] > 0) lastPositive = j;
    if (cum > t) return j;
  }
  return lastPositive;
}
