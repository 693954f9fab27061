/**
 * @file Attention that reads KIVI's packed codes directly (KIVI, arXiv:2402.02750, §3.3: the
 * quantized part of the cache is multiplied in its quantized form, the recent window in full
 * precision; its CUDA kernels fuse dequantization into the matrix-vector products). CPU loops.
 *
 * Keys are quantized per channel (one scale s_c and min m_c per channel per group of G tokens), so a
 * query row's score against token t of a group is
 *   q·k̂_t = Σ_c q_c (m_c + code_tc · s_c) = Σ_c q_c m_c + Σ_c (q_c s_c) · code_tc,
 * i.e. one dot product of the codes with q ⊙ s plus a constant per group: the scaled query is
 * formed once per group (D products), never the dequantized keys. Values are quantized per token
 * (one pair per token per group of G channels), so the weighted sum adds p_t·m + (p_t·s)·code per
 * channel. Codes are unpacked one row of D at a time into a scratch array (8 / 4 / 2 bits each have
 * their own unpacking loop) and shared by all the query rows that read that kv head (grouped-query
 * attention: the Hq / Hkv query heads and the S queries of a chunk). Scores, softmax and the value
 * sums are f64. Nothing of size [T, D] is built: per (batch row, kv head) the kernel allocates the
 * scores [rows, T] and the outputs [rows, D] only.
 *
 * The kernel reads a layer as segments per (batch row, kv head), in position order (`KiviSegment`):
 * quantized blocks and f32 runs. QuantizedKVCache gives its groups then its f32 window; a paged cache
 * on a quantized pool (paged/paged-cache.ts) gives its block table, block by block, so both caches
 * share these loops.
 *
 * `dequantizedAttention` is the reference beside it: dense f32 keys and values from
 * `cache.keys()` / `cache.values()` (dequantize, then gather), then core-tensor's `sdpa`.
 * Semantics are sdpa's: causal query i sits at position T − S + i; `mask` is bool, broadcastable to
 * [B, Hq, S, T], true = may attend; a row that may attend to nothing is zero.
 */
import {
  cpuStorage,
  fromStorageArray,
  parseOptionsWith,
  readF64,
  sdpa,
  type Tensor,
  TensorError,
} from '@hasten/core-tensor';
import { z } from 'zod';
import type { KVCache } from '../kv-cache';
import type { KiviBits, QuantizedBlock } from './kivi';

/**
 * A run of consecutive positions of one (batch row, kv head), as the fused kernel reads it: either
 * `count` positions of a quantized block (its first `count` rows: KIVI keys per channel over the
 * block's rows, values per token) or `end − start` f32 rows of D floats at `offset` of `keys` /
 * `values`.
 */
export type KiviSegment =
  | { start: number; count: number; k: QuantizedBlock; v: QuantizedBlock }
  | { start: number; end: number; keys: Float32Array; values: Float32Array; offset: number };

/**
 * One layer of a KIVI cache as the fused kernel reads it (the cache's own arrays; do not modify):
 * the contiguous QuantizedKVCache (quantized groups, then its f32 window) and the quantized paged
 * cache (its block table, block by block) both give one.
 */
export interface QuantizedLayerView {
  batch: number;
  numKvHeads: number;
  headDim: number;
  /** Positions the layer holds (committed and pending). */
  length: number;
  /** Row b, kv head h: segments covering positions 0 .. length − 1 in order. */
  segments(b: number, h: number): readonly KiviSegment[];
}

const isTensor = (v: unknown): v is Tensor =>
  typeof v === 'object' && v !== null && 'shape' in v && 'strides' in v && 'dispose' in v;

export const QuantizedAttentionOptions = z.strictObject({
  causal: z.boolean().optional(),
  mask: z.custom<Tensor>(isTensor, { message: 'expected a bool Tensor' }).optional(),
  scale: z.number().positive().optional(),
});
export type QuantizedAttentionOptions = z.input<typeof QuantizedAttentionOptions>;

const OP = 'quantizedAttention';

/** Unpack row `t` (D codes) of a packed [rows, D] code array into `out` (as numbers). */
function unpackRow(codes: Uint8Array, bits: KiviBits, t: number, D: number, out: Float64Array): void {
  const start = t * D;
  if (bits === 8) {
    for (let c = 0; c < D; c++) out[c] = codes[start + c];
  } else if (bits === 4) {
    if ((D & 1) === 0) {
      // Whole bytes: two codes each, low nibble first.
      for (let c = 0, i = start >> 1; c < D; c += 2, i++) {
        const b = codes[i];
        out[c] = b & 15;
        out[c + 1] = b >> 4;
      }
      return;
    }
    for (let c = 0; c < D; c++) {
      const i = start + c;
      out[c] = (codes[i >> 1] >> ((i & 1) << 2)) & 15;
    }
  } else {
    if ((D & 3) === 0) {
      for (let c = 0, i = start >> 2; c < D; c += 4, i++) {
        const b = codes[i];
        out[c] = b & 3;
        out[c + 1] = (b >> 2) & 3;
        out[c + 2] = (b >> 4) & 3;
        out[c + 3] = b >> 6;
      }
      return;
    }
    for (let c = 0; c < D; c++) {
      const i = start + c;
      out[c] = (codes[i >> 2] >> ((i & 3) << 1)) & 3;
    }
  }
}

/**
 * Scores of R query rows against the G positions [p0, p0 + G) of one key block (its first G rows):
 * row r gets (qm[r] + Σ_c qs[r, c] · code[t, c]) · scale, or −∞ past its causal limit `last[r]`.
 */
function keyGroupScores(
  codes: Uint8Array,
  bits: KiviBits,
  p0: number,
  G: number,
  D: number,
  R: number,
  T: number,
  qs: Float64Array,
  qm: Float64Array,
  scale: number,
  last: Int32Array,
  scores: Float64Array,
  code: Float64Array,
): void {
  for (let t = 0; t < G; t++) {
    const p = p0 + t;
    unpackRow(codes, bits, t, D, code);
    let r = 0;
    // Four rows at a time: each code is loaded once for four products.
    for (; r + 3 < R; r += 4) {
      if (p > last[r] || p > last[r + 1] || p > last[r + 2] || p > last[r + 3]) break;
      const o0 = r * D;
      const o1 = o0 + D;
      const o2 = o1 + D;
      const o3 = o2 + D;
      let s0 = qm[r];
      let s1 = qm[r + 1];
      let s2 = qm[r + 2];
      let s3 = qm[r + 3];
      for (let c = 0; c < D; c++) {
        const x = code[c];
        s0 += qs[o0 + c] * x;
        s1 += qs[o1 + c] * x;
        s2 += qs[o2 + c] * x;
        s3 += qs[o3 + c] * x;
      }
      scores[r * T + p] = s0 * scale;
      scores[(r + 1) * T + p] = s1 * scale;
      scores[(r + 2) * T + p] = s2 * scale;
      scores[(r + 3) * T + p] = s3 * scale;
    }
    for (; r < R; r++) {
      if (p > last[r]) continue;
      let s = qm[r];
      const o = r * D;
      for (let c = 0; c < D; c++) s += qs[o + c] * code[c];
      scores[r * T + p] = s * scale;
    }
  }
}

/** Masked slots of positions [from, to) of one row get −∞. */
function applyMask(
  M: Float64Array,
  mRow: number,
  scores: Float64Array,
  row: number,
  from: number,
  to: number,
): void {
  for (let p = from; p < to; p++) if (!M[mRow + p]) scores[row + p] = -Infinity;
}

/**
 * Adds Σ_t w[r, t] · v̂_t over the n positions [p0, p0 + n) of one value block (its first n rows;
 * groups of G channels per token) to acc [R, D]: per token and channel group, w·min once per group
 * and (w·scale)·code per channel.
 */
function valueGroupSums(
  codes: Uint8Array,
  bits: KiviBits,
  vs: Float32Array,
  vm: Float32Array,
  p0: number,
  n: number,
  G: number,
  D: number,
  nVal: number,
  R: number,
  T: number,
  weights: Float64Array,
  acc: Float64Array,
  code: Float64Array,
): void {
  for (let t = 0; t < n; t++) {
    const p = p0 + t;
    unpackRow(codes, bits, t, D, code);
    let r = 0;
    // Four rows at a time: each code is loaded once for four products.
    for (; r + 3 < R; r += 4) {
      const w0 = weights[r * T + p];
      const w1 = weights[(r + 1) * T + p];
      const w2 = weights[(r + 2) * T + p];
      const w3 = weights[(r + 3) * T + p];
      const o0 = r * D;
      const o1 = o0 + D;
      const o2 = o1 + D;
      const o3 = o2 + D;
      for (let g = 0, c0 = 0; g < nVal; g++, c0 += G) {
        const m = vm[t * nVal + g];
        const sc = vs[t * nVal + g];
        const m0 = w0 * m;
        const m1 = w1 * m;
        const m2 = w2 * m;
        const m3 = w3 * m;
        const s0 = w0 * sc;
        const s1 = w1 * sc;
        const s2 = w2 * sc;
        const s3 = w3 * sc;
        const end = Math.min(c0 + G, D);
        for (let c = c0; c < end; c++) {
          const x = code[c];
          acc[o0 + c] += m0 + s0 * x;
          acc[o1 + c] += m1 + s1 * x;
          acc[o2 + c] += m2 + s2 * x;
          acc[o3 + c] += m3 + s3 * x;
        }
      }
    }
    for (; r < R; r++) {
      const w = weights[r * T + p];
      if (w === 0) continue;
      const o = r * D;
      for (let g = 0, c0 = 0; g < nVal; g++, c0 += G) {
        const wm = w * vm[t * nVal + g];
        const ws = w * vs[t * nVal + g];
        const end = Math.min(c0 + G, D);
        for (let c = c0; c < end; c++) acc[o + c] += wm + ws * code[c];
      }
    }
  }
}

/** Per query row: qs = q ⊙ scale and qm = q · min for one key block's per-channel pairs. */
function scaledQueries(
  Q: Float64Array,
  qOff: Int32Array,
  ks: Float32Array,
  km: Float32Array,
  R: number,
  D: number,
  qs: Float64Array,
  qm: Float64Array,
): void {
  for (let r = 0; r < R; r++) {
    const qb = qOff[r];
    let m = 0;
    for (let c = 0; c < D; c++) {
      const x = Q[qb + c];
      m += x * km[c];
      qs[r * D + c] = x * ks[c];
    }
    qm[r] = m;
  }
}

/** Scores of the R rows (stride T) against f32 key rows of positions [from, to) (row p − from at w0). */
function windowScores(
  Q: Float64Array,
  qOff: Int32Array,
  wk: Float32Array,
  w0: number,
  from: number,
  to: number,
  T: number,
  R: number,
  D: number,
  scale: number,
  last: Int32Array,
  scores: Float64Array,
): void {
  for (let p = from; p < to; p++) {
    const kb = w0 + (p - from) * D;
    for (let r = 0; r < R; r++) {
      if (p > last[r]) continue;
      const qb = qOff[r];
      let s = 0;
      for (let c = 0; c < D; c++) s += Q[qb + c] * wk[kb + c];
      scores[r * T + p] = s * scale;
    }
  }
}

/** Softmax of each row in place (−∞ = masked; a row with nothing visible becomes zeros). */
function softmaxRows(scores: Float64Array, R: number, T: number): void {
  for (let r = 0; r < R; r++) {
    const row = r * T;
    let max = -Infinity;
    for (let p = 0; p < T; p++) if (scores[row + p] > max) max = scores[row + p];
    if (max === -Infinity) {
      scores.fill(0, row, row + T);
      continue;
    }
    let z = 0;
    for (let p = 0; p < T; p++) {
      const x = scores[row + p];
      const e = x === -Infinity ? 0 : Math.exp(x - max);
      scores[row + p] = e;
      z += e;
    }
    const inv = 1 / z;
    for (let p = 0; p < T; p++) scores[row + p] *= inv;
  }
}

/** acc[r] += Σ_p w[r, p] · v_p over f32 value rows of positions [from, to) (row p − from at w0). */
function windowValues(
  wv: Float32Array,
  w0: number,
  from: number,
  to: number,
  T: number,
  R: number,
  D: number,
  weights: Float64Array,
  acc: Float64Array,
): void {
  for (let p = from; p < to; p++) {
    const vb = w0 + (p - from) * D;
    for (let r = 0; r < R; r++) {
      const w = weights[r * T + p];
      if (w === 0) continue;
      const o = r * D;
      for (let c = 0; c < D; c++) acc[o + c] += w * wv[vb + c];
    }
  }
}

/**
 * softmax(q·k̂ᵀ·scale + masking)·v̂ over a quantized layer, reading the codes in place.
 * q [B, Hq, S, D] (f32 on a CPU backend, any strides) → a new f32 tensor [B, Hq, S, D].
 */
export function quantizedAttention(
  q: Tensor,
  kv: QuantizedLayerView,
  opts?: QuantizedAttentionOptions,
): Tensor {
  const o = parseOptionsWith(QuantizedAttentionOptions, opts ?? {}, (p) => new TensorError(OP, p));
  const { batch: B, numKvHeads: KV, headDim: D } = kv;
  const T = kv.length;
  if (q.rank !== 4 || q.shape[0] !== B || q.shape[3] !== D) {
    throw new TensorError(OP, `q must be [${B}, Hq, S, ${D}]; got [${q.shape.join(', ')}]`);
  }
  const [, Hq, S] = q.shape;
  if (Hq === 0 || Hq % KV !== 0) {
    throw new TensorError(OP, `query heads (${Hq}) must be a positive multiple of the ${KV} kv heads`);
  }
  const causal = o.causal ?? false;
  if (causal && S > T) {
    throw new TensorError(OP, `causal attention needs S <= T; got S = ${S} queries over ${T} positions`);
  }
  if (q.dtype !== 'f32') throw new TensorError(OP, `q must be f32; got ${q.dtype}`);
  cpuStorage(q); // throws a clear error off the CPU
  let M: Float64Array | null = null;
  if (o.mask) {
    if (o.mask.dtype !== 'bool') throw new TensorError(OP, `mask must be bool; got ${o.mask.dtype}`);
    let mv: Tensor;
    try {
      mv = o.mask.expand([B, Hq, S, T]);
    } catch {
      throw new TensorError(
        OP,
        `mask [${o.mask.shape.join(', ')}] does not broadcast to [${B}, ${Hq}, ${S}, ${T}]`,
      );
    }
    M = readF64(mv);
    mv.dispose();
  }
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const Q = readF64(q);
  const group = Hq / KV;
  const R = group * S; // query rows reading one kv head
  const out = new Float32Array(B * Hq * S * D);
  const scores = new Float64Array(R * T);
  const acc = new Float64Array(R * D);
  const last = new Int32Array(R);
  const qs = new Float64Array(R * D);
  const qm = new Float64Array(R);
  const code = new Float64Array(D);
  const qOff = new Int32Array(R); // row r = (h − kvh·group)·S + i: query (h, i)
  const mOff = new Int32Array(R);
  for (let b = 0; b < B; b++)
    for (let kvh = 0; kvh < KV; kvh++) {
      for (let r = 0; r < R; r++) {
        const h = kvh * group + Math.floor(r / S);
        const i = r % S;
        qOff[r] = ((b * Hq + h) * S + i) * D;
        mOff[r] = ((b * Hq + h) * S + i) * T;
        last[r] = causal ? T - S + i : T - 1;
      }
      scores.fill(-Infinity);
      const segs = kv.segments(b, kvh);
      // Scores: quantized blocks as (Σ q·m + Σ (q ⊙ s)·code) · scale, f32 rows as they are.
      for (const s of segs) {
        let end: number;
        if ('k' in s) {
          const kb = s.k;
          end = s.start + s.count;
          scaledQueries(Q, qOff, kb.scale, kb.min, R, D, qs, qm);
          keyGroupScores(kb.codes, kb.bits, s.start, s.count, D, R, T, qs, qm, scale, last, scores, code);
        } else {
          end = s.end;
          windowScores(Q, qOff, s.keys, s.offset, s.start, end, T, R, D, scale, last, scores);
        }
        if (M) for (let r = 0; r < R; r++) applyMask(M, mOff[r], scores, r * T, s.start, end);
      }
      softmaxRows(scores, R, T);
      // Weighted sum of values: quantized blocks per token (w·min + (w·scale)·code), f32 rows as they are.
      acc.fill(0);
      for (const s of segs) {
        if ('v' in s) {
          const vb = s.v;
          const nVal = Math.ceil(D / vb.groupSize); // value groups per token
          valueGroupSums(
            vb.codes,
            vb.bits,
            vb.scale,
            vb.min,
            s.start,
            s.count,
            vb.groupSize,
            D,
            nVal,
            R,
            T,
            scores,
            acc,
            code,
          );
        } else {
          windowValues(s.values, s.offset, s.start, s.end, T, R, D, scores, acc);
        }
      }
      for (let r = 0; r < R; r++) for (let c = 0; c < D; c++) out[qOff[r] + c] = acc[r * D + c];
    }
  return fromStorageArray(out, [B, Hq, S, D], 'f32', q.device);
}

/**
 * The reference: dense f32 keys and values from the cache (`keys()` / `values()` dequantize the
 * quantized part and gather the window), then `sdpa`. What a model does on a cache without
 * `attend`; O(T·D) new memory per layer and step.
 */
export function dequantizedAttention(
  cache: KVCache,
  layer: number,
  q: Tensor,
  opts?: QuantizedAttentionOptions,
): Tensor {
  const k = cache.keys(layer);
  const v = cache.values(layer);
  try {
    return sdpa(q, k, v, opts);
  } finally {
    k.dispose();
    v.dispose();
  }
}
