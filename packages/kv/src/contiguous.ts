/**
 * @file ContiguousKVCache: one dense [batch, kvHeads, capacity, headDim] f32 buffer per layer for
 * keys and one for values, written in place. The simplest cache (what Hugging Face's
 * `StaticCache` does); paged, prefix-shared, evicting and quantized caches build on the same
 * `KVCache` contract (kv-cache.ts).
 *
 * - append writes new positions into the buffer (no reallocation while within capacity);
 *   `capacity` defaults to `maxLength`, so a decode loop allocates nothing. A smaller capacity
 *   grows by doubling, up to `maxLength`.
 * - keys/values return views (no copy) of the written positions.
 * - truncate is O(1): it only moves the length back.
 * - adopt lets a runtime that returns the whole cache (ONNX presents) hand its buffers over
 *   without a copy.
 *
 * In-place writes run on CPU backends. TODO(kv issue): GPU backends need a device-side
 * "copy into a strided view" kernel in core-tensor; until then append on a non-CPU backend throws.
 */
import {
  CpuBackend,
  cast,
  cpuStorage,
  keep,
  parseOptionsWith,
  type Tensor,
  TensorError,
  zeros,
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
} from './cache-checks';
import type { KVCache, KVMemory } from './kv-cache';

export const ContiguousKVCacheOptions = z.strictObject({
  numLayers: z.number().int().positive(),
  batch: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  /** Most positions the cache may ever hold. */
  maxLength: z.number().int().positive(),
  /** Positions allocated up front per layer (default maxLength; 0 allocates on first write). */
  capacity: z.number().int().nonnegative().optional(),
  dtype: z.literal('f32').default('f32'),
  device: z.string().default('cpu'),
});
export type ContiguousKVCacheOptions = z.input<typeof ContiguousKVCacheOptions>;

interface Layer {
  k: Tensor | null;
  v: Tensor | null;
  /** Positions the buffers can hold. */
  cap: number;
  /** Positions written (committed + pending). */
  len: number;
}

const OP = 'ContiguousKVCache';

function parseOptions(opts: ContiguousKVCacheOptions) {
  const o = parseOptionsWith(ContiguousKVCacheOptions, opts, (problem) => new TensorError(OP, problem));
  if (o.capacity !== undefined && o.capacity > o.maxLength) {
    throw new TensorError(OP, `capacity ${o.capacity} exceeds maxLength ${o.maxLength}`);
  }
  return o;
}

/** Copy src [B, KV, S, D] (f32, CPU, any strides) into dst [B, KV, cap, D] at position `at`. */
function writePositions(dst: Tensor, src: Tensor, at: number): void {
  const [B, KV, S, D] = src.shape;
  const d = cpuStorage(dst) as Float32Array;
  const s = cpuStorage(src) as Float32Array;
  const [db, dh, ds] = dst.strides;
  const [sb, sh, ss, sd] = src.strides;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < KV; h++) {
      const so = src.offset + b * sb + h * sh;
      const dOff = dst.offset + b * db + h * dh + at * ds;
      if (sd === 1 && ss === D && ds === D) {
        d.set(s.subarray(so, so + S * D), dOff);
      } else if (sd === 1) {
        for (let p = 0; p < S; p++) d.set(s.subarray(so + p * ss, so + p * ss + D), dOff + p * ds);
      } else {
        for (let p = 0; p < S; p++)
          for (let e = 0; e < D; e++) d[dOff + p * ds + e] = s[so + p * ss + e * sd];
      }
    }
  }
}

/** Copy position `from` to position `to` of buf [B, KV, cap, D] (unit-stride rows), every row and head. */
function movePosition(buf: Tensor, from: number, to: number): void {
  const [B, KV, , D] = buf.shape;
  const d = cpuStorage(buf) as Float32Array;
  const [sb, sh, ss] = buf.strides;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < KV; h++) {
      const base = buf.offset + b * sb + h * sh;
      d.copyWithin(base + to * ss, base + from * ss, base + from * ss + D);
    }
  }
}

export class ContiguousKVCache implements KVCache {
  readonly numLayers: number;
  readonly batch: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly maxLength: number;
  readonly device: string;
  readonly dtype = 'f32' as const;
  private committed = 0;
  private pad: number[];
  /** Positions evicted before the cached ones (see KVCache.positionOffset). */
  private evicted = 0;
  private layers: Layer[];
  /** Per layer, slot visibility [B, KV, maxLength] (1 = attend), or null while every slot is visible. */
  private visible: (Uint8Array | null)[];
  private disposed = false;

  constructor(opts: ContiguousKVCacheOptions) {
    const o = parseOptions(opts);
    this.numLayers = o.numLayers;
    this.batch = o.batch;
    this.numKvHeads = o.numKvHeads;
    this.headDim = o.headDim;
    this.maxLength = o.maxLength;
    this.device = o.device;
    this.pad = new Array(o.batch).fill(0);
    const cap = o.capacity ?? o.maxLength;
    this.layers = Array.from({ length: o.numLayers }, () => ({ k: null, v: null, cap: 0, len: 0 }));
    this.visible = new Array(o.numLayers).fill(null);
    if (cap > 0) for (const l of this.layers) this.allocate(l, cap);
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

  keepPositions(prefix: number, kept: readonly number[]): void {
    const op = `${OP}.keepPositions`;
    this.assertLive(op);
    assertNothingPending(op, this.lengths(), this.committed);
    checkKeptPositions(op, prefix, kept, this.committed);
    const length = prefix + kept.length;
    for (const l of this.layers) {
      // Adopted (ONNX) buffers may lack unit-stride rows; re-densify once before moving rows.
      if (!this.writable(l)) this.allocate(l, l.cap);
      for (let i = 0; i < kept.length; i++) {
        if (kept[i] !== prefix + i) {
          movePosition(l.k!, kept[i], prefix + i);
          movePosition(l.v!, kept[i], prefix + i);
        }
      }
      l.len = length;
    }
    const M = this.maxLength;
    for (const m of this.visible) {
      if (!m) continue;
      for (let bh = 0; bh < this.batch * this.numKvHeads; bh++)
        for (let i = 0; i < kept.length; i++) m[bh * M + prefix + i] = m[bh * M + kept[i]];
    }
    this.committed = length;
  }

  visibility(layer: number): Uint8Array | null {
    const l = this.layer(`${OP}.visibility`, layer);
    const m = this.visible[layer];
    if (!m) return null;
    const rows = this.batch * this.numKvHeads;
    const out = new Uint8Array(rows * l.len);
    for (let bh = 0; bh < rows; bh++)
      out.set(m.subarray(bh * this.maxLength, bh * this.maxLength + l.len), bh * l.len);
    return out;
  }

  setVisibility(layer: number, visible: ArrayLike<number>): void {
    const op = `${OP}.setVisibility`;
    this.layer(op, layer);
    assertNothingPending(op, this.lengths(), this.committed);
    const rows = this.batch * this.numKvHeads;
    const T = this.committed;
    if (visible.length !== rows * T) {
      throw new TensorError(
        op,
        `visible has ${visible.length} entries; expected [${this.batch}, ${this.numKvHeads}, ${T}] = ${rows * T} (batch, kv heads, committed positions)`,
      );
    }
    let all = true;
    for (let i = 0; i < visible.length; i++) {
      if (visible[i] !== 0 && visible[i] !== 1) {
        throw new TensorError(op, `visible[${i}] is ${visible[i]}; expected 0 (hidden) or 1 (attend)`);
      }
      if (!visible[i]) all = false;
    }
    if (all) {
      this.visible[layer] = null;
      return;
    }
    const m = new Uint8Array(rows * this.maxLength).fill(1);
    for (let bh = 0; bh < rows; bh++)
      for (let t = 0; t < T; t++) m[bh * this.maxLength + t] = visible[bh * T + t];
    this.visible[layer] = m;
  }

  layerLength(layer: number): number {
    return this.layer('layerLength', layer).len;
  }

  append(layer: number, k: Tensor, v: Tensor): void {
    const op = `${OP}.append`;
    const l = this.layer(op, layer);
    const S = this.checkKV(op, k, v, null);
    const end = l.len + S;
    if (end > this.maxLength) {
      throw new TensorError(
        op,
        `layer ${layer} holds ${l.len} positions; appending ${S} exceeds maxLength ${this.maxLength}`,
      );
    }
    if (end > l.cap || !this.writable(l))
      this.allocate(l, Math.max(end, Math.min(this.maxLength, 2 * l.cap)));
    const kf = k.dtype === 'f32' ? k : cast(k, 'f32');
    const vf = v.dtype === 'f32' ? v : cast(v, 'f32');
    writePositions(l.k!, kf, l.len);
    writePositions(l.v!, vf, l.len);
    const m = this.visible[layer];
    if (m)
      for (let bh = 0; bh < this.batch * this.numKvHeads; bh++)
        m.fill(1, bh * this.maxLength + l.len, bh * this.maxLength + end);
    if (kf !== k) kf.dispose();
    if (vf !== v) vf.dispose();
    l.len = end;
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
    const m = this.visible[layer];
    if (m)
      for (let bh = 0; bh < this.batch * this.numKvHeads; bh++)
        m.fill(1, bh * this.maxLength + l.len, bh * this.maxLength + T);
    if (l.k !== k) l.k?.dispose();
    if (l.v !== v) l.v?.dispose();
    // The cache owns its buffers: exempt them from any enclosing scope().
    l.k = keep(k);
    l.v = keep(v);
    l.cap = T;
    l.len = T;
  }

  keys(layer: number): Tensor {
    const l = this.layer(`${OP}.keys`, layer);
    return this.view(l.k, l.len);
  }

  values(layer: number): Tensor {
    const l = this.layer(`${OP}.values`, layer);
    return this.view(l.v, l.len);
  }

  /**
   * Overwrite committed position `position` of `layer` with k, v [B, KV, D] (row-major): what cache
   * merging (Elastic Cache) writes into its anchors.
   */
  overwrite(layer: number, position: number, k: ArrayLike<number>, v: ArrayLike<number>): void {
    const op = `${OP}.overwrite`;
    const l = this.layer(op, layer);
    if (!Number.isInteger(position) || position < 0 || position >= this.committed) {
      throw new TensorError(
        op,
        `position must be a committed position in [0, ${this.committed}), got ${position}`,
      );
    }
    const n = this.batch * this.numKvHeads * this.headDim;
    if (k.length !== n || v.length !== n) {
      throw new TensorError(
        op,
        `k and v must hold [${this.batch}, ${this.numKvHeads}, ${this.headDim}] = ${n} values, got ${k.length} and ${v.length}`,
      );
    }
    if (!this.writable(l)) this.allocate(l, l.cap);
    const D = this.headDim;
    for (const [buf, src] of [
      [l.k!, k],
      [l.v!, v],
    ] as const) {
      const d = cpuStorage(buf) as Float32Array;
      const [sb, sh, ss, sd] = buf.strides;
      for (let b = 0; b < this.batch; b++)
        for (let h = 0; h < this.numKvHeads; h++) {
          const base = buf.offset + b * sb + h * sh + position * ss;
          const at = (b * this.numKvHeads + h) * D;
          for (let e = 0; e < D; e++) d[base + e * sd] = src[at + e];
        }
    }
  }

  commit(): void {
    this.assertLive(`${OP}.commit`);
    this.committed = committedLength(`${OP}.commit`, this.lengths());
  }

  rollback(): void {
    for (const l of this.layers) l.len = this.committed;
  }

  truncate(n: number): void {
    const op = `${OP}.truncate`;
    this.assertLive(op);
    checkTruncateLength(op, n, this.committed);
    assertNothingPending(op, this.lengths(), this.committed);
    this.committed = n;
    for (const l of this.layers) l.len = n;
    if (n === 0) {
      this.pad.fill(0);
      this.evicted = 0;
      this.visible.fill(null);
    }
  }

  fork(): ContiguousKVCache {
    this.assertLive(`${OP}.fork`);
    const copy = new ContiguousKVCache({ ...this.options(), capacity: 0 });
    copy.committed = this.committed;
    copy.pad = [...this.pad];
    copy.evicted = this.evicted;
    copy.visible = this.visible.map((m) => m?.slice() ?? null);
    this.layers.forEach((l, i) => {
      const c = copy.layers[i];
      if (l.cap === 0) return;
      copy.allocate(c, l.cap);
      for (const [src, dst] of [
        [l.k!, c.k!],
        [l.v!, c.v!],
      ]) {
        const used = src.slice(2, 0, l.len);
        writePositions(dst, used, 0);
        used.dispose();
      }
      c.len = l.len;
    });
    return copy;
  }

  memory(): KVMemory {
    const perPos = this.batch * this.numKvHeads * this.headDim * 4 * 2;
    const allocated = this.layers.reduce((s, l) => s + l.cap * perPos, 0);
    return {
      allocatedBytes: allocated,
      usedBytes: this.committed * perPos * this.numLayers,
      length: this.committed,
      maxLength: this.maxLength,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const l of this.layers) {
      l.k?.dispose();
      l.v?.dispose();
      l.k = l.v = null;
      l.cap = l.len = 0;
    }
  }

  // ---------------------------------------------------------------- internals

  private options(): ContiguousKVCacheOptions {
    const { numLayers, batch, numKvHeads, headDim, maxLength, device } = this;
    return { numLayers, batch, numKvHeads, headDim, maxLength, device };
  }

  private assertLive(op: string): void {
    if (this.disposed) throw new TensorError(op, 'the cache was disposed');
  }

  private layer(op: string, i: number): Layer {
    checkLayerIndex(op, i, this.numLayers, this.disposed);
    return this.layers[i];
  }

  /** Validates k, v [B, KV, S, D] and returns S. */
  private checkKV(op: string, k: Tensor, v: Tensor, dtype: 'f32' | null): number {
    return checkKV(op, k, v, dtype, this, (name, t) =>
      t.backend instanceof CpuBackend
        ? `${name} is on '${t.device}' but the cache lives on '${this.device}'`
        : // TODO(kv issue): device-side in-place writes need a core-tensor copy-into kernel.
          `${name} is on backend '${t.device}'; ContiguousKVCache writes in place on CPU backends only for now`,
    );
  }

  /** The positions each layer holds (committed or not). */
  private lengths(): number[] {
    return this.layers.map((l) => l.len);
  }

  /** In-place writes need unit-stride rows in the layer buffers (adopted tensors may lack them). */
  private writable(l: Layer): boolean {
    return l.k !== null && l.v !== null && l.k.strides[3] === 1 && l.v.strides[3] === 1;
  }

  /** (Re)allocate a layer's buffers with `cap` positions, keeping the written ones. */
  private allocate(l: Layer, cap: number): void {
    const shape = [this.batch, this.numKvHeads, cap, this.headDim];
    const k = keep(zeros(shape, { device: this.device }));
    const v = keep(zeros(shape, { device: this.device }));
    if (l.k && l.v && l.len > 0) {
      for (const [src, dst] of [
        [l.k, k],
        [l.v, v],
      ]) {
        const used = src.slice(2, 0, l.len);
        writePositions(dst, used, 0);
        used.dispose();
      }
    }
    l.k?.dispose();
    l.v?.dispose();
    l.k = k;
    l.v = v;
    l.cap = cap;
  }

  private view(t: Tensor | null, len: number): Tensor {
    if (t) return t.slice(2, 0, len);
    return zeros([this.batch, this.numKvHeads, 0, this.headDim], { device: this.device });
  }
}
