/**
 * @file PrefixKV layer-wise budgets (Wang et al., "PrefixKV: Adaptive Prefix KV Cache is What Vision
 * Instruction-Following Models Need for Efficient Generation", arXiv:2412.03409): each layer ranks its
 * positions by importance and normalises the ranked scores into a priority distribution; ONE
 * cumulative-priority threshold p, shared by all layers, is found by binary search so that the layers
 * together keep the budget, and each layer keeps the shortest prefix of its ranking whose cumulative
 * priority reaches p. Layers whose importance is concentrated keep few positions, diffuse ones many.
 * (The paper estimates the threshold offline on a calibration set; here it is searched per call on
 * the scores at hand.) Positions scored +Infinity (sinks, recent windows) are always kept and count
 * against the budget; the rest must score >= 0 (attention-like importances).
 */
import { TensorError } from '@hasten/core-tensor';

/** How many positions each layer keeps: `scores[l]` is layer l's importance per position. */
export function prefixKVBudgets(op: string, scores: readonly Float64Array[], total: number): number[] {
  const layers = scores.map((s, l) => {
    const forced = Array.from(s).filter((x) => x === Infinity).length;
    const finite = Array.from(s).filter((x) => x !== Infinity);
    const bad = finite.find((x) => !(x >= 0));
    if (bad !== undefined) {
      throw new TensorError(
        op,
        `prefix-kv needs importance scores >= 0 (attention-based policies: h2o, snapkv, tova, keyformer, expected-attention); layer ${l} has ${bad}`,
      );
    }
    finite.sort((a, b) => b - a);
    const z = finite.reduce((a, b) => a + b, 0);
    // cum[n] = priority of the n best finite positions (n = 0..finite.length).
    const cum = new Float64Array(finite.length + 1);
    for (let i = 0; i < finite.length; i++) cum[i + 1] = cum[i] + (z > 0 ? finite[i] / z : 1 / finite.length);
    return { forced, cum };
  });
  // Layer l keeps forced + the smallest n with cum[n] >= p (at least one position per layer).
  const keepAt = (p: number) =>
    layers.map(({ forced, cum }) => {
      let n = 0;
      while (n < cum.length - 1 && cum[n] < p - 1e-15) n++;
      return Math.max(1, forced + n);
    });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  if (sum(keepAt(1)) <= total) return keepAt(1);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sum(keepAt(mid)) <= total) lo = mid;
    else hi = mid;
  }
  return keepAt(lo);
}
