/**
 * @file Score-based KV-cache eviction (the shape of NVIDIA kvpress's `ScorerPress`): a policy gives
 * every cached position a score per (layer, batch row, kv head), higher = keep, and `compress` keeps
 * the `keep` best positions, in their order, through the cache's `keepPositions`. One policy per
 * file next to this one (StreamingLLM, key-norm, random, H2O, SnapKV, TOVA).
 *
 * Limitation (first version): `keepPositions` keeps the same positions in every layer, head and
 * batch row, so `compress` averages each position's scores over layers, rows and kv heads and keeps
 * ONE set of positions. kvpress and the papers keep positions per head (and AdaKV gives heads
 * different budgets); `perHead: true` is rejected until a cache can hold per-head positions.
 * Kept keys keep the rotary rotation of their original positions (no re-rotation, unlike kvpress's
 * `KeyRerotationPress`), and the cache's `positionOffset` grows by the evicted count, so the next
 * token sits at its true position: decoding after `compress` equals decoding over the full cache
 * with the evicted positions masked out (test/eviction-positions.test.ts).
 */
import { cpuStorage, parseOptionsWith, type Tensor, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import type { KVCache } from '../kv-cache';

/** What a policy scores one layer from. */
export interface ScoreInput {
  layer: number;
  /** Keys [B, Hkv, T, D] (after RoPE), e.g. the view `cache.keys(layer)`. */
  keys: Tensor;
  /** Values [B, Hkv, T, D], e.g. the view `cache.values(layer)`. */
  values: Tensor;
  /**
   * Queries [B, Hq, W, D] (after RoPE) of the last W cached positions, row-major; needed by the
   * attention-based policies (H2O, SnapKV, TOVA). Query w sits at position T - W + w and attends
   * positions <= its own (causal).
   */
  queries?: Float32Array;
  /** Hq, the number of query heads (a multiple of Hkv: query head h reads kv head h / (Hq / Hkv)). */
  numHeads?: number;
}

export interface ScorePolicy {
  readonly name: string;
  /** Scores [B, Hkv, T] in f64, row-major; higher = keep, +Infinity = always keep. */
  score(input: ScoreInput): Float64Array;
}

/** A rank-4 tensor's elements as a dense row-major f64 array (any strides, CPU storage). */
export function readF64(t: Tensor): Float64Array {
  const [B, H, T, D] = t.shape;
  const s = cpuStorage(t) as ArrayLike<number>;
  const [sb, sh, st, sd] = t.strides;
  const out = new Float64Array(B * H * T * D);
  let i = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let p = 0; p < T; p++) {
        const base = t.offset + b * sb + h * sh + p * st;
        for (let e = 0; e < D; e++) out[i++] = s[base + e * sd];
      }
  return out;
}

const isPolicy = (v: unknown): v is ScorePolicy =>
  typeof v === 'object' && v !== null && typeof (v as ScorePolicy).score === 'function';

export const ScoreOptions = z.strictObject({
  policy: z.custom<ScorePolicy>(isPolicy, { message: 'expected a ScorePolicy (an object with score())' }),
  /** One [B, Hq, W, D] array for every layer, or one per layer. */
  queries: z.union([z.instanceof(Float32Array), z.array(z.instanceof(Float32Array))]).optional(),
  numHeads: z.number().int().positive().optional(),
});
export type ScoreOptions = z.input<typeof ScoreOptions>;

export const CompressOptions = z.strictObject({
  ...ScoreOptions.shape,
  /** Positions to keep (the same in every layer); a cache no longer than this is left as it is. */
  keep: z.number().int().positive(),
  /** Per-head kept positions: not supported yet (keepPositions keeps one set for all heads). */
  perHead: z.boolean().default(false),
});
export type CompressOptions = z.input<typeof CompressOptions>;

const SCORE = 'scorePositions';
const COMPRESS = 'compress';

/**
 * Each committed position's score averaged over layers, batch rows and kv heads (f64, length
 * `cache.length`): what `compress` ranks by.
 */
export function scorePositions(cache: KVCache, opts: ScoreOptions): Float64Array {
  const o = parseOptionsWith(ScoreOptions, opts, (p) => new TensorError(SCORE, p));
  return meanScores(SCORE, cache, o);
}

function meanScores(op: string, cache: KVCache, o: z.output<typeof ScoreOptions>): Float64Array {
  const T = cache.length;
  for (let l = 0; l < cache.numLayers; l++) {
    if (cache.layerLength(l) !== T) {
      throw new TensorError(op, 'uncommitted positions pending; call commit() or rollback() first');
    }
  }
  if (cache.padding.some((p) => p > 0)) {
    // Pad slots hold no token, and keepPositions cannot keep per-row positions.
    throw new TensorError(op, `left-padded caches are not supported (padding [${cache.padding.join(', ')}])`);
  }
  const qs = o.queries;
  if (Array.isArray(qs) && qs.length !== cache.numLayers) {
    throw new TensorError(
      op,
      `queries holds ${qs.length} arrays; expected one per layer (${cache.numLayers})`,
    );
  }
  const rows = cache.batch * cache.numKvHeads;
  const sum = new Float64Array(T);
  for (let l = 0; l < cache.numLayers; l++) {
    const keys = cache.keys(l);
    const values = cache.values(l);
    try {
      const queries = Array.isArray(qs) ? qs[l] : qs;
      const s = o.policy.score({ layer: l, keys, values, queries, numHeads: o.numHeads });
      if (s.length !== rows * T) {
        throw new TensorError(op, `policy ${o.policy.name} gave ${s.length} scores; expected ${rows * T}`);
      }
      for (let r = 0; r < rows; r++) for (let p = 0; p < T; p++) sum[p] += s[r * T + p];
    } finally {
      keys.dispose();
      values.dispose();
    }
  }
  const n = cache.numLayers * rows;
  for (let p = 0; p < T; p++) {
    sum[p] /= n;
    if (Number.isNaN(sum[p])) throw new TensorError(op, `policy ${o.policy.name} gave a NaN score`);
  }
  return sum;
}

/** The `keep` best positions of `scores`, ascending; ties keep the later (more recent) position. */
export function topPositions(scores: ArrayLike<number>, keep: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || b - a);
  return idx.slice(0, keep).sort((a, b) => a - b);
}

/**
 * Keep the `keep` best-scored committed positions of `cache` (the same positions in every layer,
 * head and row; see the file comment), moved down in order with `keepPositions(0, kept)`. Returns
 * the kept positions (all of them when the cache holds no more than `keep`).
 */
export function compress(cache: KVCache, opts: CompressOptions): number[] {
  const o = parseOptionsWith(CompressOptions, opts, (p) => new TensorError(COMPRESS, p));
  if (o.perHead) {
    throw new TensorError(
      COMPRESS,
      'perHead is not supported: keepPositions keeps the same positions for every layer and head (per-head budgets, AdaKV, are not done)',
    );
  }
  const T = cache.length;
  if (T <= o.keep) return Array.from({ length: T }, (_, i) => i);
  const kept = topPositions(meanScores(COMPRESS, cache, o), o.keep);
  cache.keepPositions(0, kept);
  // New tokens continue at their true positions, after the evicted ones.
  cache.addPositionOffset(T - kept.length);
  return kept;
}
