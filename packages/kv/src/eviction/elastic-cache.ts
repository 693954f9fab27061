/**
 * @file Elastic Cache's cache merging (Liu et al., "Efficient Inference of Vision Instruction-Following
 * Models with Elastic Cache", ECCV 2024, arXiv:2407.18121; facts from its kv_cache.py): instead of
 * dropping the positions it evicts, each layer folds them into its kept "anchors". Per layer, the
 * positions are ranked by importance (the policy's score averaged over rows and kv heads; the paper
 * accumulates attention, i.e. h2o()); the first `sinks` positions (start_size = 4) and the last one
 * always stay; the best others up to `keep` become anchors; every other position is merged into the
 * anchor NEAREST IN POSITION (ties to the earlier one), and an anchor's key and value become the mean
 * of itself and everything merged into it (`scatter_reduce(..., 'mean')`, include_self), or, with
 * `weighting: 'score'`, the importance-weighted mean. `merge: false` drops instead of merging, the
 * same anchors: plain eviction at an equal budget, the comparison the paper makes.
 *
 * Layers keep different anchors, so the cache holds their union and hides the other slots per layer
 * (`setVisibility`), as compress's per-layer allocations do; needs a ContiguousKVCache (merging
 * writes the anchors in place). The paper's decode-phase "fixed-point elimination" is not here.
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { ContiguousKVCache } from '../contiguous';
import { readF64, ScoreOptions, scoreLayers } from './scorer';

export const ElasticMergeOptions = z.strictObject({
  ...ScoreOptions.shape,
  /** Positions each layer keeps (sinks and the last position included). */
  keep: z.number().int().positive(),
  /** First positions always kept (Elastic Cache start_size: 4). */
  sinks: z.number().int().nonnegative().default(4),
  /** Fold evicted entries into their anchor (true) or drop them (false: plain eviction). */
  merge: z.boolean().default(true),
  /** 'mean' (the paper's code) or 'score' (weights = importance scores). */
  weighting: z.enum(['mean', 'score']).default('mean'),
});
export type ElasticMergeOptions = z.input<typeof ElasticMergeOptions>;

const OP = 'elasticMerge';

/** Per layer: anchors (ascending) and, for each anchor, the positions merged into it. */
export function elasticAnchors(
  importance: ArrayLike<number>,
  keep: number,
  sinks: number,
): { anchors: number[]; groups: Map<number, number[]> } {
  const T = importance.length;
  const fixed = new Set<number>([...Array.from({ length: Math.min(sinks, T) }, (_, i) => i), T - 1]);
  const free = Array.from({ length: T }, (_, t) => t).filter((t) => !fixed.has(t));
  free.sort((a, b) => importance[b] - importance[a] || b - a);
  const chosen = new Set([...fixed, ...free.slice(0, Math.max(0, keep - fixed.size))]);
  const anchors = [...chosen].sort((a, b) => a - b);
  const groups = new Map<number, number[]>(anchors.map((a) => [a, []]));
  for (let t = 0; t < T; t++) {
    if (chosen.has(t)) continue;
    let best = anchors[0];
    for (const a of anchors) if (Math.abs(a - t) < Math.abs(best - t)) best = a;
    groups.get(best)!.push(t);
  }
  return { anchors, groups };
}

/**
 * Merge (or, with `merge: false`, evict) all but `keep` positions per layer; returns the positions
 * the cache still holds (the union of the layers' anchors), ascending.
 */
export function elasticMerge(cache: ContiguousKVCache, opts: ElasticMergeOptions): number[] {
  const o = parseOptionsWith(ElasticMergeOptions, opts, (p) => new TensorError(OP, p));
  if (!(cache instanceof ContiguousKVCache)) {
    throw new TensorError(OP, 'needs a ContiguousKVCache (merging writes the anchors in place)');
  }
  const T = cache.length;
  if (T <= o.keep) return Array.from({ length: T }, (_, i) => i);
  if (o.keep < Math.min(o.sinks, T) + 1) {
    throw new TensorError(
      OP,
      `keep ${o.keep} must exceed sinks ${o.sinks} (the last position is always kept too)`,
    );
  }
  const { batch: B, numKvHeads: H, headDim: D } = cache;
  const rows = B * H;
  const scores = scoreLayers(OP, cache, o);
  const plans = scores.map((s) => {
    const importance = new Float64Array(T);
    for (let r = 0; r < rows; r++) for (let t = 0; t < T; t++) importance[t] += s[r * T + t] / rows;
    // +Infinity (a policy's "always keep") would poison weighted means: rank it first, weigh it 1.
    return { importance, ...elasticAnchors(importance, o.keep, o.sinks) };
  });
  // Merged keys and values per layer and anchor, computed before any position moves.
  const merged = plans.map((plan, l) => {
    const out = new Map<number, { k: Float64Array; v: Float64Array }>();
    if (!o.merge) return out;
    const kView = cache.keys(l);
    const vView = cache.values(l);
    const k = readF64(kView);
    const v = readF64(vView);
    kView.dispose();
    vView.dispose();
    for (const [a, members] of plan.groups) {
      if (members.length === 0) continue;
      const all = [a, ...members];
      const w = all.map((t) => {
        if (o.weighting === 'mean') return 1;
        const x = plan.importance[t];
        return Number.isFinite(x) ? Math.max(0, x) : 1;
      });
      let z = w.reduce((x, y) => x + y, 0);
      if (!(z > 0)) {
        w.fill(1);
        z = all.length;
      }
      const mk = new Float64Array(rows * D);
      const mv = new Float64Array(rows * D);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < all.length; i++) {
          const src = (r * T + all[i]) * D;
          for (let e = 0; e < D; e++) {
            mk[r * D + e] += (w[i] / z) * k[src + e];
            mv[r * D + e] += (w[i] / z) * v[src + e];
          }
        }
      out.set(a, { k: mk, v: mv });
    }
    return out;
  });
  const inUnion = new Uint8Array(T);
  for (const p of plans) for (const a of p.anchors) inUnion[a] = 1;
  const union: number[] = [];
  for (let t = 0; t < T; t++) if (inUnion[t]) union.push(t);
  const before = plans.map((_, l) => cache.visibility(l));
  cache.keepPositions(0, union);
  cache.addPositionOffset(T - union.length);
  const slot = new Int32Array(T).fill(-1);
  union.forEach((p, i) => {
    slot[p] = i;
  });
  const U = union.length;
  plans.forEach((plan, l) => {
    const visible = new Uint8Array(rows * U);
    for (let r = 0; r < rows; r++)
      for (const a of plan.anchors) visible[r * U + slot[a]] = before[l] ? before[l]![r * T + a] : 1;
    cache.setVisibility(l, visible);
    for (const [a, kv] of merged[l]) cache.overwrite(l, slot[a], kv.k, kv.v);
  });
  return union;
}
