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
import { adaKVKeep } from './ada-kv';
import { prefixKVBudgets } from './prefix-kv';

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
  /**
   * Positions evicted before the cached ones (the cache's `positionOffset`): cached slot t holds
   * true position t + positionOffset. Policies that need true positions (Expected Attention's RoPE)
   * read it; default 0.
   */
  positionOffset?: number;
}

export interface ScorePolicy {
  readonly name: string;
  /** True when `score` needs `queries` (the attention-based policies). */
  readonly needsQueries?: boolean;
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

/** Any Float32Array (z.instanceof would narrow the type to ArrayBuffer-backed arrays). */
const F32 = z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'expected a Float32Array' });

export const ScoreOptions = z.strictObject({
  policy: z.custom<ScorePolicy>(isPolicy, { message: 'expected a ScorePolicy (an object with score())' }),
  /** One [B, Hq, W, D] array for every layer, or one per layer. */
  queries: z.union([F32, z.array(F32)]).optional(),
  numHeads: z.number().int().positive().optional(),
});
export type ScoreOptions = z.input<typeof ScoreOptions>;

export const CompressOptions = z.strictObject({
  ...ScoreOptions.shape,
  /**
   * Positions to keep: in every layer and head ('shared', 'per-head'), per head on average
   * ('ada-kv'), or per layer on average ('prefix-kv'). A cache no longer than this is left as it is.
   */
  keep: z.number().int().positive(),
  /**
   * How the budget is spread. 'shared' (default): one set of positions for every layer, row and
   * head, ranked by the score averaged over them (works on every cache). 'per-head': each layer's
   * kv heads keep their own best `keep` (SnapKV's and kvpress's default). 'ada-kv': a layer's heads
   * share keep × heads slots (AdaKV, ada-kv.ts). 'prefix-kv': layers get different budgets summing
   * to keep × layers (PrefixKV, prefix-kv.ts). The last three hide slots per kv head, so they need a
   * cache with `setVisibility` (ContiguousKVCache); the cache holds the union of the kept positions.
   */
  allocation: z.enum(['shared', 'per-head', 'ada-kv', 'prefix-kv']).default('shared'),
  /** 'ada-kv' only: each head's own best ⌊safeguard · keep⌋ positions are reserved (kvpress: 0.2). */
  safeguard: z.number().min(0).max(1).default(0.2),
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
  return meanOver(scoreLayers(SCORE, cache, o), cache.batch * cache.numKvHeads, cache.length);
}

/** Every layer's scores [B, Hkv, T] (f64), validated (what compress and elasticMerge rank by). */
export function scoreLayers(op: string, cache: KVCache, o: z.output<typeof ScoreOptions>): Float64Array[] {
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
  const all: Float64Array[] = [];
  for (let l = 0; l < cache.numLayers; l++) {
    const keys = cache.keys(l);
    const values = cache.values(l);
    try {
      const queries = Array.isArray(qs) ? qs[l] : qs;
      const s = o.policy.score({
        layer: l,
        keys,
        values,
        queries,
        numHeads: o.numHeads,
        positionOffset: cache.positionOffset,
      });
      if (s.length !== rows * T) {
        throw new TensorError(op, `policy ${o.policy.name} gave ${s.length} scores; expected ${rows * T}`);
      }
      if (s.some(Number.isNaN)) throw new TensorError(op, `policy ${o.policy.name} gave a NaN score`);
      all.push(s);
    } finally {
      keys.dispose();
      values.dispose();
    }
  }
  return all;
}

/** Scores averaged over `layers` and all rows and heads, per position. */
function meanOver(scores: readonly Float64Array[], rows: number, T: number): Float64Array {
  const sum = new Float64Array(T);
  for (const s of scores) for (let r = 0; r < rows; r++) for (let p = 0; p < T; p++) sum[p] += s[r * T + p];
  for (let p = 0; p < T; p++) sum[p] /= scores.length * rows;
  return sum;
}

/** The `keep` best positions of `scores`, ascending; ties keep the later (more recent) position. */
export function topPositions(scores: ArrayLike<number>, keep: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || b - a);
  return idx.slice(0, keep).sort((a, b) => a - b);
}

/**
 * Evict all but the best-scored committed positions of `cache` (see `allocation` in the options)
 * and return the positions the cache still holds, ascending: the kept set ('shared'), or the union
 * of the per-head / per-layer kept sets, whose other slots are hidden per kv head. Kept positions
 * move down in order (`keepPositions(0, kept)`) and the cache's `positionOffset` grows by the number
 * evicted, so decoding continues at the true positions.
 */
export function compress(cache: KVCache, opts: CompressOptions): number[] {
  const o = parseOptionsWith(CompressOptions, opts, (p) => new TensorError(COMPRESS, p));
  const T = cache.length;
  if (T <= o.keep) return Array.from({ length: T }, (_, i) => i);
  const shared = o.allocation === 'shared';
  if (!shared && !cache.setVisibility) {
    throw new TensorError(
      COMPRESS,
      `allocation '${o.allocation}' hides slots per kv head and needs a cache with setVisibility (ContiguousKVCache); use allocation 'shared' with this cache`,
    );
  }
  const H = cache.numKvHeads;
  const rows = cache.batch * H;
  const scores = scoreLayers(COMPRESS, cache, o);
  if (shared) {
    const kept = topPositions(meanOver(scores, rows, T), o.keep);
    cache.keepPositions(0, kept);
    // New tokens continue at their true positions, after the evicted ones.
    cache.addPositionOffset(T - kept.length);
    return kept;
  }
  // Per layer, per (row, kv head): the kept positions.
  let perHead: number[][][];
  if (o.allocation === 'per-head') {
    perHead = scores.map((s) =>
      Array.from({ length: rows }, (_, r) => topPositions(s.subarray(r * T, (r + 1) * T), o.keep)),
    );
  } else if (o.allocation === 'ada-kv') {
    perHead = scores.map((s) =>
      Array.from({ length: cache.batch }, (_, b) =>
        adaKVKeep(s.subarray(b * H * T, (b + 1) * H * T), H, T, o.keep, o.safeguard),
      ).flat(),
    );
  } else {
    const layerMeans = scores.map((s) => meanOver([s], rows, T));
    const budgets = prefixKVBudgets(COMPRESS, layerMeans, o.keep * cache.numLayers);
    perHead = layerMeans.map((m, l) => {
      const kept = topPositions(m, Math.min(T, budgets[l]));
      return Array.from({ length: rows }, () => kept);
    });
  }
  const inUnion = new Uint8Array(T);
  for (const layer of perHead) for (const kept of layer) for (const p of kept) inUnion[p] = 1;
  const union: number[] = [];
  for (let p = 0; p < T; p++) if (inUnion[p]) union.push(p);
  // Previously hidden slots stay hidden: read them before the positions move.
  const before = perHead.map((_, l) => cache.visibility?.(l) ?? null);
  cache.keepPositions(0, union);
  cache.addPositionOffset(T - union.length);
  const slot = new Int32Array(T).fill(-1);
  union.forEach((p, i) => {
    slot[p] = i;
  });
  const U = union.length;
  perHead.forEach((layer, l) => {
    const visible = new Uint8Array(rows * U);
    layer.forEach((kept, r) => {
      for (const p of kept) visible[r * U + slot[p]] = before[l] ? before[l]![r * T + p] : 1;
    });
    cache.setVisibility!(l, visible);
  });
  return union;
}
