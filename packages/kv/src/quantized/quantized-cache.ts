/**
 * @file QuantizedKVCache: KIVI (arXiv:2402.02750) as a `KVCache` (kv-cache.ts). Keys are quantized
 * per channel in groups of G tokens, values per token in groups of G channels (quantizer: kivi.ts),
 * to 8, 4 or 2 bits; the most recent positions stay in f32.
 *
 * Layout per layer: a list of quantized blocks of G positions each (one key and one value
 * `QuantizedBlock` per batch row and kv head), then an f32 window [B, KV, wcap, D] holding every
 * later position. At `commit()` whole groups of G leave the window (oldest first) while at least R
 * (`residual`) positions would remain, so the window holds the R most recent positions plus up to
 * G − 1 not yet filling a key group, and any uncommitted ones. Only committed positions are ever
 * quantized, so `rollback()` just drops window positions.
 *
 * - `attend(layer, q, { causal | mask })` is attention over the layer read in place: the fused
 *   kernel of fused-attention.ts multiplies the packed codes directly (per group scale and min) and
 *   the f32 window as it is, so no dense K/V is built; the native models call it when a cache has it.
 * - `keys(layer)` / `values(layer)` return a NEW dense f32 tensor [B, KV, len, D] (gather and
 *   dequantize, O(len) per call; the caller disposes it), for code that needs dense keys.
 * - `truncate(n)` / `keepPositions` into the quantized part drop whole blocks; a cut block's kept
 *   positions go back to the window as their dequantized values, and positions `keepPositions`
 *   moves are copied as dequantized values. Those positions are quantized again when they next
 *   leave the window, which may add up to another half step of error (lossy, like any requantize).
 * - `adopt` copies the adopted positions past the quantized part into the window and disposes the
 *   tensors (a quantized cache cannot own dense presents).
 * - `memory()` counts real bytes: codes + f32 scales and mins + the f32 window.
 *
 * Quantizing runs on CPU backends (plain loops, kivi.ts); inputs on another backend are rejected.
 */
import {
  CpuBackend,
  cast,
  cpuStorage,
  fromStorageArray,
  parseOptionsWith,
  type Tensor,
  TensorError,
} from '@hasten/core-tensor';
import { z } from 'zod';
import {
  assertNothingPending,
  checkKeptPositions,
  checkKV,
  checkLayerIndex,
  checkPadding,
  checkPositionOffset,
  checkTruncateLength,
  committedLength,
} from '../cache-checks';
import { ContiguousKVCacheOptions } from '../contiguous';
import type { KVCache, KVMemory } from '../kv-cache';
import {
  type KiviSegment,
  type QuantizedAttentionOptions,
  type QuantizedLayerView,
  quantizedAttention,
} from './fused-attention';
import {
  blockBytes,
  dequantizeRowsInto,
  type KiviBits,
  type QuantizedBlock,
  quantizeKeys,
  quantizeValues,
} from './kivi';

export const QuantizedKVCacheOptions = z.strictObject({
  ...ContiguousKVCacheOptions.shape,
  /** Bits per code. */
  bits: z.union([z.literal(8), z.literal(4), z.literal(2)]).default(4),
  /** G: tokens per key group (per channel) and channels per value group (per token). */
  groupSize: z.number().int().positive().default(32),
  /** R: most recent committed positions kept in f32. */
  residual: z.number().int().nonnegative().default(128),
  /** Positions the f32 window allocates up front (default min(maxLength, residual + groupSize)); it grows by doubling. */
  capacity: z.number().int().nonnegative().optional(),
});
export type QuantizedKVCacheOptions = z.input<typeof QuantizedKVCacheOptions>;

/** G positions of one layer: a key and a value block per (row, kv head), index b·KV + h. */
interface Group {
  k: QuantizedBlock[];
  v: QuantizedBlock[];
}

interface Layer {
  groups: Group[];
  /** Quantized positions (groups.length · G). */
  qlen: number;
  /** f32 window [B, KV, wcap, D] of positions qlen, qlen + 1, ... */
  wk: Float32Array;
  wv: Float32Array;
  wcap: number;
  /** Positions written (committed + pending). */
  len: number;
}

const OP = 'QuantizedKVCache';

export class QuantizedKVCache implements KVCache {
  readonly numLayers: number;
  readonly batch: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly maxLength: number;
  readonly device: string;
  readonly bits: KiviBits;
  readonly groupSize: number;
  readonly residual: number;
  private committed = 0;
  private pad: number[];
  /** Positions evicted before the cached ones (see KVCache.positionOffset). */
  private evicted = 0;
  private layers: Layer[];
  private disposed = false;

  constructor(opts: QuantizedKVCacheOptions) {
    const o = parseOptionsWith(QuantizedKVCacheOptions, opts, (problem) => new TensorError(OP, problem));
    if (o.capacity !== undefined && o.capacity > o.maxLength) {
      throw new TensorError(OP, `capacity ${o.capacity} exceeds maxLength ${o.maxLength}`);
    }
    this.numLayers = o.numLayers;
    this.batch = o.batch;
    this.numKvHeads = o.numKvHeads;
    this.headDim = o.headDim;
    this.maxLength = o.maxLength;
    this.device = o.device;
    this.bits = o.bits;
    this.groupSize = o.groupSize;
    this.residual = o.residual;
    this.pad = new Array(o.batch).fill(0);
    const cap = o.capacity ?? Math.min(o.maxLength, o.residual + o.groupSize);
    this.layers = Array.from({ length: o.numLayers }, () => this.emptyLayer(cap));
  }

  get length(): number {
    return this.committed;
  }

  get padding(): readonly number[] {
    return this.pad;
  }

  get positionOffset(): number {
    return this.evicted;
  }

  addPositionOffset(n: number): void {
    const op = `${OP}.addPositionOffset`;
    this.assertLive(op);
    checkPositionOffset(op, n);
    this.evicted += n;
  }

  setPadding(padding: readonly number[]): void {
    const op = `${OP}.setPadding`;
    this.assertLive(op);
    checkPadding(op, padding, this.batch, this.committed);
    this.pad = [...padding];
  }

  layerLength(layer: number): number {
    return this.layer('layerLength', layer).len;
  }

  append(layer: number, k: Tensor, v: Tensor): void {
    const op = `${OP}.append`;
    const l = this.layer(op, layer);
    const S = this.checkKV(op, k, v, null);
    if (l.len + S > this.maxLength) {
      throw new TensorError(
        op,
        `layer ${layer} holds ${l.len} positions; appending ${S} exceeds maxLength ${this.maxLength}`,
      );
    }
    this.writeWindow(l, k, v, 0, S);
  }

  adopt(layer: number, k: Tensor, v: Tensor): void {
    const op = `${OP}.adopt`;
    const l = this.layer(op, layer);
    const T = this.checkKV(op, k, v, 'f32');
    if (T < this.committed || T > this.maxLength) {
      throw new TensorError(
        op,
        `layer ${layer}: adopted tensors hold ${T} positions; need between the committed length ${this.committed} and maxLength ${this.maxLength}`,
      );
    }
    // Positions below qlen are already quantized (and equal what keys() gave the runtime).
    l.len = l.qlen;
    this.writeWindow(l, k, v, l.qlen, T);
    k.dispose();
    if (v !== k) v.dispose();
  }

  keys(layer: number): Tensor {
    return this.dense(this.layer(`${OP}.keys`, layer), 'k');
  }

  values(layer: number): Tensor {
    return this.dense(this.layer(`${OP}.values`, layer), 'v');
  }

  /**
   * Attention of q [B, Hq, S, D] over `layer` (every position written, pending ones included),
   * reading the packed codes in place (fused-attention.ts); sdpa's `causal` / `mask` / `scale`.
   */
  attend(layer: number, q: Tensor, opts?: QuantizedAttentionOptions): Tensor {
    return quantizedAttention(q, this.layerView(layer), opts);
  }

  /**
   * `layer` as the fused kernel reads it: the quantized groups, then the f32 window (the cache's own
   * arrays; valid until the cache changes). `qlen`: the positions quantized.
   */
  layerView(layer: number): QuantizedLayerView & { qlen: number } {
    const l = this.layer(`${OP}.layerView`, layer);
    const { batch, numKvHeads, headDim, groupSize: G } = this;
    const segments = (b: number, h: number): KiviSegment[] => {
      const bh = b * numKvHeads + h;
      const out: KiviSegment[] = l.groups.map((g, j) => ({ start: j * G, count: G, k: g.k[bh], v: g.v[bh] }));
      out.push({ start: l.qlen, end: l.len, keys: l.wk, values: l.wv, offset: bh * l.wcap * headDim });
      return out;
    };
    return { batch, numKvHeads, headDim, length: l.len, qlen: l.qlen, segments };
  }

  commit(): void {
    this.assertLive(`${OP}.commit`);
    this.committed = committedLength(
      `${OP}.commit`,
      this.layers.map((l) => l.len),
    );
    for (const l of this.layers) this.quantizeOld(l);
  }

  rollback(): void {
    for (const l of this.layers) l.len = this.committed;
  }

  truncate(n: number): void {
    const op = `${OP}.truncate`;
    this.assertLive(op);
    checkTruncateLength(op, n, this.committed);
    assertNothingPending(op, this.lengths(), this.committed);
    for (const l of this.layers) this.cut(l, n);
    this.committed = n;
    if (n === 0) {
      this.pad.fill(0);
      this.evicted = 0;
    }
  }

  keepPositions(prefix: number, kept: readonly number[]): void {
    const op = `${OP}.keepPositions`;
    this.assertLive(op);
    assertNothingPending(op, this.lengths(), this.committed);
    checkKeptPositions(op, prefix, kept, this.committed);
    // Positions already in place (kept[i] === prefix + i) are not touched.
    let s = 0;
    while (s < kept.length && kept[s] === prefix + s) s++;
    const base = prefix + s;
    const moved = kept.slice(s);
    const { batch: B, numKvHeads: KV, headDim: D } = this;
    const M = moved.length;
    for (const l of this.layers) {
      // Gather the moved positions (dequantized) before cutting, as a [B, KV, M, D] pair.
      const gk = new Float32Array(B * KV * M * D);
      const gv = new Float32Array(B * KV * M * D);
      for (let bh = 0; bh < B * KV; bh++)
        for (let i = 0; i < M; i++) this.readPosition(l, bh, moved[i], gk, gv, (bh * M + i) * D);
      this.cut(l, base);
      if (M > 0) this.writeWindowRaw(l, gk, gv, M);
      this.quantizeOld(l, base + M);
    }
    this.committed = base + M;
  }

  fork(): QuantizedKVCache {
    this.assertLive(`${OP}.fork`);
    const copy = new QuantizedKVCache({ ...this.options(), capacity: 0 });
    copy.committed = this.committed;
    copy.pad = [...this.pad];
    copy.evicted = this.evicted;
    const clone = (q: QuantizedBlock): QuantizedBlock => ({
      ...q,
      codes: q.codes.slice(),
      scale: q.scale.slice(),
      min: q.min.slice(),
    });
    copy.layers = this.layers.map((l) => ({
      groups: l.groups.map((g) => ({ k: g.k.map(clone), v: g.v.map(clone) })),
      qlen: l.qlen,
      wk: l.wk.slice(),
      wv: l.wv.slice(),
      wcap: l.wcap,
      len: l.len,
    }));
    return copy;
  }

  memory(): KVMemory {
    const perPos = this.batch * this.numKvHeads * this.headDim * 4 * 2;
    let allocated = 0;
    let used = 0;
    for (const l of this.layers) {
      let q = 0;
      for (const g of l.groups) for (const b of [...g.k, ...g.v]) q += blockBytes(b);
      allocated += q + l.wcap * perPos;
      used += q + (this.committed - l.qlen) * perPos;
    }
    return { allocatedBytes: allocated, usedBytes: used, length: this.committed, maxLength: this.maxLength };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.layers = this.layers.map(() => this.emptyLayer(0));
  }

  // ---------------------------------------------------------------- internals

  private options(): QuantizedKVCacheOptions {
    const { numLayers, batch, numKvHeads, headDim, maxLength, device, bits, groupSize, residual } = this;
    return { numLayers, batch, numKvHeads, headDim, maxLength, device, bits, groupSize, residual };
  }

  private emptyLayer(cap: number): Layer {
    const n = this.batch * this.numKvHeads * cap * this.headDim;
    return { groups: [], qlen: 0, wk: new Float32Array(n), wv: new Float32Array(n), wcap: cap, len: 0 };
  }

  private assertLive(op: string): void {
    if (this.disposed) throw new TensorError(op, 'the cache was disposed');
  }

  private layer(op: string, i: number): Layer {
    checkLayerIndex(op, i, this.numLayers, this.disposed);
    return this.layers[i];
  }

  private checkKV(op: string, k: Tensor, v: Tensor, dtype: 'f32' | null): number {
    return checkKV(op, k, v, dtype, this, (name, t) =>
      t.backend instanceof CpuBackend
        ? `${name} is on '${t.device}' but the cache lives on '${this.device}'`
        : `${name} is on backend '${t.device}'; QuantizedKVCache quantizes on CPU backends only for now`,
    );
  }

  private lengths(): number[] {
    return this.layers.map((l) => l.len);
  }

  /** Window positions the layer holds. */
  private windowLength(l: Layer): number {
    return l.len - l.qlen;
  }

  /** Grow the window to hold `need` positions (doubling), keeping its contents. */
  private reserve(l: Layer, need: number): void {
    if (need <= l.wcap) return;
    const cap = Math.max(need, 2 * l.wcap);
    const { batch: B, numKvHeads: KV, headDim: D } = this;
    const w = this.windowLength(l);
    const nk = new Float32Array(B * KV * cap * D);
    const nv = new Float32Array(B * KV * cap * D);
    for (let bh = 0; bh < B * KV; bh++) {
      nk.set(l.wk.subarray(bh * l.wcap * D, (bh * l.wcap + w) * D), bh * cap * D);
      nv.set(l.wv.subarray(bh * l.wcap * D, (bh * l.wcap + w) * D), bh * cap * D);
    }
    l.wk = nk;
    l.wv = nv;
    l.wcap = cap;
  }

  /** Append positions [from, to) of k, v [B, KV, ·, D] (any strides and float dtype) to the window. */
  private writeWindow(l: Layer, k: Tensor, v: Tensor, from: number, to: number): void {
    const S = to - from;
    this.reserve(l, this.windowLength(l) + S);
    const at = this.windowLength(l);
    for (const [src, dst] of [
      [k, l.wk],
      [v, l.wv],
    ] as const) {
      const f = src.dtype === 'f32' ? src : cast(src, 'f32');
      const s = cpuStorage(f) as Float32Array;
      const [sb, sh, ss, sd] = f.strides;
      const { numKvHeads: KV, headDim: D } = this;
      for (let b = 0; b < this.batch; b++)
        for (let h = 0; h < KV; h++)
          for (let p = 0; p < S; p++) {
            const so = f.offset + b * sb + h * sh + (from + p) * ss;
            const d0 = ((b * KV + h) * l.wcap + at + p) * D;
            for (let e = 0; e < D; e++) dst[d0 + e] = s[so + e * sd];
          }
      if (f !== src) f.dispose();
    }
    l.len += S;
  }

  /** Append M positions given as dense [B, KV, M, D] arrays to the window. */
  private writeWindowRaw(l: Layer, gk: Float32Array, gv: Float32Array, M: number): void {
    this.reserve(l, this.windowLength(l) + M);
    const at = this.windowLength(l);
    const D = this.headDim;
    for (let bh = 0; bh < this.batch * this.numKvHeads; bh++) {
      l.wk.set(gk.subarray(bh * M * D, (bh + 1) * M * D), (bh * l.wcap + at) * D);
      l.wv.set(gv.subarray(bh * M * D, (bh + 1) * M * D), (bh * l.wcap + at) * D);
    }
    l.len += M;
  }

  /**
   * Quantize whole groups of G committed positions from the front of the window while at least R
   * positions remain in it, then move the rest of the window down.
   */
  private quantizeOld(l: Layer, committed = this.committed): void {
    const { groupSize: G, residual: R, bits, headDim: D } = this;
    const n = Math.max(0, Math.floor((committed - l.qlen - R) / G));
    if (n === 0) return;
    const BKV = this.batch * this.numKvHeads;
    for (let j = 0; j < n; j++) {
      const g: Group = { k: [], v: [] };
      for (let bh = 0; bh < BKV; bh++) {
        const off = (bh * l.wcap + j * G) * D;
        g.k.push(quantizeKeys(l.wk, G, D, bits, G, off));
        g.v.push(quantizeValues(l.wv, G, D, bits, G, off));
      }
      l.groups.push(g);
    }
    const w = this.windowLength(l);
    for (let bh = 0; bh < BKV; bh++) {
      const base = bh * l.wcap * D;
      l.wk.copyWithin(base, base + n * G * D, base + w * D);
      l.wv.copyWithin(base, base + n * G * D, base + w * D);
    }
    l.qlen += n * G;
  }

  /** Keep the first n (≤ len) positions of a layer with nothing pending. */
  private cut(l: Layer, n: number): void {
    if (n >= l.qlen) {
      l.len = n;
      return;
    }
    const G = this.groupSize;
    const D = this.headDim;
    const keepGroups = Math.floor(n / G);
    const r = n - keepGroups * G;
    // The cut group's first r positions return to the window as their dequantized values.
    l.len = l.qlen = keepGroups * G;
    if (r > 0) {
      const g = l.groups[keepGroups];
      this.reserve(l, r);
      for (let bh = 0; bh < this.batch * this.numKvHeads; bh++) {
        dequantizeRowsInto(g.k[bh], 0, r, l.wk, bh * l.wcap * D);
        dequantizeRowsInto(g.v[bh], 0, r, l.wv, bh * l.wcap * D);
      }
      l.len = n;
    }
    l.groups.length = keepGroups;
  }

  /** Position p of row/head bh (dequantized if quantized) into ok, ov at `off`. */
  private readPosition(
    l: Layer,
    bh: number,
    p: number,
    ok: Float32Array,
    ov: Float32Array,
    off: number,
  ): void {
    const D = this.headDim;
    if (p >= l.qlen) {
      const s = (bh * l.wcap + p - l.qlen) * D;
      ok.set(l.wk.subarray(s, s + D), off);
      ov.set(l.wv.subarray(s, s + D), off);
      return;
    }
    const G = this.groupSize;
    const g = l.groups[Math.floor(p / G)];
    const t = p % G;
    dequantizeRowsInto(g.k[bh], t, t + 1, ok, off);
    dequantizeRowsInto(g.v[bh], t, t + 1, ov, off);
  }

  /** Dense [B, KV, len, D] f32 copy of the layer's keys or values: the groups dequantized, then the window. */
  private dense(l: Layer, which: 'k' | 'v'): Tensor {
    const { batch: B, numKvHeads: KV, headDim: D, groupSize: G } = this;
    const len = l.len;
    const w = this.windowLength(l);
    const out = new Float32Array(B * KV * len * D);
    const win = which === 'k' ? l.wk : l.wv;
    for (let bh = 0; bh < B * KV; bh++) {
      const base = bh * len * D;
      l.groups.forEach((g, j) => {
        dequantizeRowsInto(g[which][bh], 0, G, out, base + j * G * D);
      });
      out.set(win.subarray(bh * l.wcap * D, (bh * l.wcap + w) * D), base + l.qlen * D);
    }
    return fromStorageArray(out, [B, KV, len, D], 'f32', this.device);
  }
}
