/**
 * @file AdaKV head-wise budgets (Feng et al., "Ada-KV: Optimizing KV Cache Eviction by Adaptive
 * Budget Allocation for Efficient LLM Inference", arXiv:2407.11550; kvpress `AdaKVPress`): the heads
 * of a layer share one budget, `keep` positions per head on average, and the layer keeps its
 * `keep × heads` best scores across all of its heads, so heads with concentrated attention give
 * slots to heads with spread-out attention. A safeguard (kvpress `alpha_safeguard`, default 0.20)
 * first reserves each head its own best ⌊α·keep⌋ positions, so no head is emptied.
 */

/**
 * Kept positions per head of one batch row of one layer: `scores` is [H, T] row-major (higher =
 * keep), the result H ascending lists whose lengths sum to min(H·keep, H·T).
 */
export function adaKVKeep(
  scores: Float64Array,
  H: number,
  T: number,
  keep: number,
  safeguard: number,
): number[][] {
  const budget = Math.min(H * keep, H * T);
  const reserved = Math.min(T, Math.floor(safeguard * keep));
  const taken = new Uint8Array(H * T);
  let used = 0;
  // The safeguard: each head's own best positions first (ties towards the more recent position).
  for (let h = 0; h < H; h++) {
    const order = Array.from({ length: T }, (_, t) => t).sort(
      (a, b) => scores[h * T + b] - scores[h * T + a] || b - a,
    );
    for (let i = 0; i < reserved; i++) taken[h * T + order[i]] = 1;
    used += reserved;
  }
  // Then the best remaining scores across all heads of the layer.
  const rest = Array.from({ length: H * T }, (_, i) => i)
    .filter((i) => !taken[i])
    .sort((a, b) => scores[b] - scores[a] || (b % T) - (a % T));
  for (let i = 0; used < budget && i < rest.length; i++, used++) taken[rest[i]] = 1;
  return Array.from({ length: H }, (_, h) => {
    const kept: number[] = [];
    for (let t = 0; t < T; t++) if (taken[h * T + t]) kept.push(t);
    return kept;
  });
}
