/**
 * @file PagedKVCache: the `KVCache` contract (kv-cache.ts) on blocks of a shared PagedKVPool
 * (PagedAttention, vLLM: arXiv:2309.06180). Each row (sequence) has a block table: logical block i
 * (positions i·blockSize ..) lives in the physical block table[i]; the tables are shared by all
 * layers. Models read the cache in place through `attentionView(layer)` and core-tensor's
 * `pagedSdpa`; `keys()`/`values()` still work, by gathering a dense copy (for code that needs one).
 *
 * - fork() shares every block (reference counts), in O(blocks); the first write into a shared block
 *   copies it (copy-on-write), so a fork never sees another's writes. In practice only a partially
 *   filled last block is ever copied: full blocks are never written again.
 * - truncate / rollback / keepPositions release the blocks they no longer need; a block nobody
 *   references goes back to the pool (cached prefix blocks stay reusable until evicted).
 * - Prefix caching: the cache hashes a full block once it knows the block's token ids, which the
 *   caller tells it with `recordTokens(ids)` after the forward that wrote them (the model code never
 *   sees token ids); `matchPrefix(prompt)` on an empty cache then starts a request from the cached
 *   blocks of its longest cached prefix, and the caller prefills only the rest. A cache salt
 *   (`pool.createCache({ salt })`) keeps tenants apart.
 *
 * On a quantized pool (`quantization` option, KIVI: arXiv:2402.02750) each cache reads its first
 * `quantizedBlocks` blocks quantized, the same count in every row (KIVI's rule, as in
 * QuantizedKVCache with group = blockSize: at commit, whole blocks leave the f32 window while at
 * least residualBlocks · blockSize committed positions stay in it). `attend(layer, q)` reads
 * quantized blocks in place with the fused kernel of quantized/fused-attention.ts and f32 blocks as
 * they are; there is no `attentionView` (pagedSdpa reads f32 blocks only), so models call `attend`.
 * A truncation that cuts a quantized block leaves it quantized until the next write into it, which
 * replaces it by an f32 block holding its dequantized positions (as QuantizedKVCache's window does).
 * Writes run on CPU backends (as ContiguousKVCache).
 */
import {
  cast,
  cpuStorage,
  fromStorageArray,
  keep,
  type PagedKV,
  type Tensor,
  TensorError,
  zeros,
} from '@hasten/core-tensor';
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
import type { KVCache, KVMemory } from '../kv-cache';
import {
  type KiviSegment,
  type QuantizedAttentionOptions,
  type QuantizedLayerView,
  quantizedAttention,
} from '../quantized/fused-attention';
import { dequantizeRowsInto } from '../quantized/kivi';
import { blockKey, PAD_TOKEN, rootKey } from './block-hash';
import type { PagedKVPool } from './pool';

const OP = 'PagedKVCache';

/** Token ids per row: one array per row, or (batch 1) one flat array. */
export type TokenRows = ArrayLike<number> | readonly ArrayLike<number>[];

export interface PagedKVMemory extends KVMemory {
  /** Distinct pool blocks this cache's tables name. */
  blocks: number;
  /** Of those, blocks also named elsewhere (another row, cache or fork). */
  sharedBlocks: number;
  /** Bytes of the blocks only this cache names: what disposing it returns to the pool. */
  exclusiveBytes: number;
  /** Leading blocks of each row read quantized (0 without quantization). */
  quantizedBlocks: number;
  /** What the same blocks would take in f32 (blocks · the pool's bytesPerBlock). */
  f32Bytes: number;
}

export class PagedKVCache implements KVCache {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly blockSize: number;
  readonly device: string;
  readonly dtype = 'f32' as const;
  private committed = 0;
  private pad: number[];
  /** Positions evicted before the cached ones (see KVCache.positionOffset). */
  private evicted = 0;
  /** Positions written per layer (committed + pending). */
  private lens: number[];
  private tables: number[][];
  /** Recorded token ids per row (positions 0 .. recorded - 1, all committed). */
  private toks: number[][];
  /** Prefix keys of each row's full blocks whose ids are recorded, in order. */
  private chains: string[][];
  private tableTensor: Tensor | null = null;
  private tableDirty = true;
  private disposed = false;
  /** Leading blocks of every row read quantized (quantized pools only). */
  private qBlocks = 0;
  /**
   * The layer as core-tensor's `pagedSdpa` reads it: the pool's blocks, this cache's block tables
   * (i32 [B, blocks]) and the layer's length. No copy; the tensors belong to the pool and the cache
   * (do not dispose them) and the view is valid until the cache next changes. Absent on quantized
   * pools (models then call `attend`).
   */
  readonly attentionView?: (layer: number) => PagedKV;
  /**
   * Quantized pools only: attention of q [B, Hq, S, D] over every position `layer` holds (sdpa's
   * `causal` / `mask` / `scale`), read in place by the fused KIVI kernel (quantized/
   * fused-attention.ts) over quantized and f32 blocks. A new tensor [B, Hq, S, D]. (An f32 pool's
   * caches offer `attentionView` instead, so code that hides it falls back to keys()/values().)
   */
  readonly attend?: (layer: number, q: Tensor, opts?: QuantizedAttentionOptions) => Tensor;

  /** Use `pool.createCache()`. */
  constructor(
    readonly pool: PagedKVPool,
    readonly batch: number,
    readonly maxLength: number,
    readonly salt: string | undefined,
  ) {
    this.numLayers = pool.numLayers;
    this.numKvHeads = pool.numKvHeads;
    this.headDim = pool.headDim;
    this.blockSize = pool.blockSize;
    this.device = pool.device;
    this.pad = new Array(batch).fill(0);
    this.lens = new Array(pool.numLayers).fill(0);
    this.tables = Array.from({ length: batch }, () => []);
    this.toks = Array.from({ length: batch }, () => []);
    this.chains = Array.from({ length: batch }, () => []);
    if (pool.quantization)
      this.attend = (layer, q, opts) => quantizedAttention(q, this.layerView(layer), opts);
    else this.attentionView = (layer) => this.pagedView(layer);
    pool.attach(this);
  }

  /** Leading blocks of each row read quantized (0 without quantization). */
  get quantizedBlocks(): number {
    return this.qBlocks;
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

  /** Row `row`'s block table (physical block ids, in position order). */
  blockTable(row: number): readonly number[] {
    return [...this.tables[this.row(`${OP}.blockTable`, row)]];
  }

  /** The token ids recorded for row `row`. */
  tokenIds(row: number): readonly number[] {
    return [...this.toks[this.row(`${OP}.tokenIds`, row)]];
  }

  /** The most positions any layer holds (committed + pending). */
  writtenLength(): number {
    return Math.max(...this.lens);
  }

  layerLength(layer: number): number {
    return this.lens[this.layer(`${OP}.layerLength`, layer)];
  }

  append(layer: number, k: Tensor, v: Tensor): void {
    const op = `${OP}.append`;
    this.layer(op, layer);
    const S = this.checkKV(op, k, v, null);
    const start = this.lens[layer];
    if (start + S > this.maxLength) {
      throw new TensorError(
        op,
        `layer ${layer} holds ${start} positions; appending ${S} exceeds maxLength ${this.maxLength}`,
      );
    }
    this.prepareWrite(op, start, start + S);
    for (const [kind, t] of [
      ['k', k],
      ['v', v],
    ] as const) {
      const f = t.dtype === 'f32' ? t : cast(t, 'f32');
      this.write(layer, kind, f, start);
      if (f !== t) f.dispose();
    }
    this.lens[layer] = start + S;
  }

  /**
   * Takes k, v [B, KV, T, D] holding all T positions of `layer` (ONNX `present.*`): the positions
   * after the committed ones are copied into blocks (a paged cache cannot adopt a dense buffer),
   * and k and v are disposed, as the contract's ownership transfer implies.
   */
  adopt(layer: number, k: Tensor, v: Tensor): void {
    const op = `${OP}.adopt`;
    this.layer(op, layer);
    const T = this.checkKV(op, k, v, 'f32');
    if (T < this.committed || T > this.maxLength) {
      throw new TensorError(
        op,
        `layer ${layer}: adopted tensors hold ${T} positions; need between the committed length ${this.committed} and maxLength ${this.maxLength}`,
      );
    }
    const from = this.committed;
    this.prepareWrite(op, from, T);
    for (const [kind, t] of [
      ['k', k],
      ['v', v],
    ] as const) {
      const fresh = t.slice(2, from, T);
      this.write(layer, kind, fresh, from);
      fresh.dispose();
    }
    this.lens[layer] = T;
    k.dispose();
    if (v !== k) v.dispose();
  }

  /** A dense copy [B, KV, layerLength, D] of the keys, gathered from the blocks; the caller disposes it. */
  keys(layer: number): Tensor {
    return this.gather(this.layer(`${OP}.keys`, layer), 'k');
  }

  /** A dense copy [B, KV, layerLength, D] of the values, gathered from the blocks; the caller disposes it. */
  values(layer: number): Tensor {
    return this.gather(this.layer(`${OP}.values`, layer), 'v');
  }

  /**
   * `layer` as the fused KIVI kernel reads it, block by block (the pool's arrays; valid until the
   * cache changes). On an f32 pool every block is an f32 segment.
   */
  layerView(layer: number): QuantizedLayerView {
    const l = this.layer(`${OP}.layerView`, layer);
    const { batch, numKvHeads, headDim, blockSize: bs, pool } = this;
    const len = this.lens[l];
    const keys = pool.data(l, 'k');
    const values = pool.data(l, 'v');
    const segments = (b: number, h: number): KiviSegment[] => {
      const table = this.tables[b];
      const out: KiviSegment[] = [];
      for (let i = 0; i * bs < len; i++) {
        const start = i * bs;
        const end = Math.min(len, start + bs);
        const id = table[i];
        if (i < this.qBlocks) out.push({ start, count: end - start, ...pool.quantized(id, l, h) });
        else out.push({ start, end, keys, values, offset: pool.offset(id, h, 0) });
      }
      return out;
    };
    return { batch, numKvHeads, headDim, length: len, segments };
  }

  private pagedView(layer: number): PagedKV {
    const l = this.layer(`${OP}.attentionView`, layer);
    return {
      keys: this.pool.blocks(l, 'k'),
      values: this.pool.blocks(l, 'v'),
      blockTable: this.blockTableTensor(),
      length: this.lens[l],
    };
  }

  commit(): void {
    this.assertLive(`${OP}.commit`);
    this.committed = committedLength(`${OP}.commit`, this.lens);
    this.quantizeOld();
  }

  rollback(): void {
    if (this.disposed) return;
    this.lens.fill(this.committed);
    this.trim(this.committed);
  }

  truncate(n: number): void {
    const op = `${OP}.truncate`;
    this.assertLive(op);
    checkTruncateLength(op, n, this.committed);
    this.assertCommitted(op);
    this.shorten(n);
    if (n === 0) {
      this.pad.fill(0);
      this.evicted = 0;
    }
  }

  /**
   * Reads the positions that move (dequantized where quantized), cuts the cache at the first of
   * them and writes them back after it: shared blocks are copied, not written, and a quantized block
   * the cut lands in becomes f32 (its dequantized positions), as in QuantizedKVCache.
   */
  keepPositions(prefix: number, kept: readonly number[]): void {
    const op = `${OP}.keepPositions`;
    this.assertLive(op);
    this.assertCommitted(op);
    checkKeptPositions(op, prefix, kept, this.committed);
    let s = 0;
    while (s < kept.length && kept[s] === prefix + s) s++;
    const base = prefix + s; // positions before it stay where they are
    const moved = kept.slice(s);
    const M = moved.length;
    const bs = this.blockSize;
    if (M > 0) {
      const first = Math.floor(base / bs);
      const last = Math.floor((base + M - 1) / bs);
      this.pool.reserve(op, this.copiesNeeded(Array.from({ length: last - first + 1 }, (_, i) => first + i)));
    }
    const { batch: B, numKvHeads: KV, headDim: D } = this;
    const gathered = Array.from({ length: this.numLayers }, (_, l) =>
      (['k', 'v'] as const).map((kind) => {
        const out = new Float32Array(B * KV * M * D);
        for (let b = 0; b < B; b++)
          for (let h = 0; h < KV; h++)
            moved.forEach((p, i) => {
              this.readPosition(l, kind, b, h, p, out, ((b * KV + h) * M + i) * D);
            });
        return out;
      }),
    );
    const toks = this.toks.map((rec) => {
      if (rec.length <= prefix) return rec;
      const next = rec.slice(0, prefix);
      for (const p of kept) {
        if (p >= rec.length) break;
        next.push(rec[p]);
      }
      return next;
    });
    this.shorten(base);
    if (M > 0) {
      this.prepareWrite(op, base, base + M);
      gathered.forEach((kv, l) => {
        kv.forEach((data, j) => {
          const t = fromStorageArray(data, [B, KV, M, D], 'f32', this.device);
          this.write(l, j === 0 ? 'k' : 'v', t, base);
          t.dispose();
        });
      });
    }
    this.committed = base + M;
    this.lens.fill(this.committed);
    this.toks = toks;
    for (let b = 0; b < this.batch; b++) this.register(b);
    this.quantizeOld();
  }

  setPadding(padding: readonly number[]): void {
    const op = `${OP}.setPadding`;
    this.assertLive(op);
    checkPadding(op, padding, this.batch, this.committed);
    const row = padding.findIndex((p, b) => p !== this.pad[b] && this.toks[b].length > 0);
    if (row >= 0) {
      throw new TensorError(
        op,
        `row ${row} already has recorded token ids (its prefix keys assume padding ${this.pad[row]}); set the padding before recordTokens`,
      );
    }
    this.pad = [...padding];
  }

  /**
   * Tells the cache the token ids of its next positions, per row (for batch 1 a flat array will do):
   * row b's ids continue the ones recorded before, and may not run past the committed length, so
   * call it after the forward that wrote them. Full blocks whose ids are all known get their prefix
   * keys and enter the pool's prefix cache. Left-padding slots are hashed as padding whatever ids
   * they are given.
   */
  recordTokens(tokens: TokenRows): void {
    const op = `${OP}.recordTokens`;
    this.assertLive(op);
    const rows = this.rows(op, tokens);
    rows.forEach((ids, b) => {
      if (this.toks[b].length + ids.length > this.committed) {
        throw new TensorError(
          op,
          `row ${b} would have ids for ${this.toks[b].length + ids.length} positions but the cache holds ${this.committed} committed ones; record ids after the forward that wrote them`,
        );
      }
    });
    rows.forEach((ids, b) => {
      for (let i = 0; i < ids.length; i++) this.toks[b].push(ids[i]);
      this.register(b);
    });
  }

  /**
   * Starts an empty cache from the pool's cached blocks of the longest prefix of `tokens` (per row,
   * or a flat array for batch 1) that every row has cached, in whole blocks, and at most
   * tokens.length - 1 positions so the caller always has a token left to run for the next logits
   * (as vLLM does). Returns the number of positions now in the cache (the same for every row): the
   * caller prefills `tokens.slice(matched)`, then calls recordTokens with those ids. The matched ids
   * count as recorded. 0 when nothing matched or prefix caching is off.
   */
  matchPrefix(tokens: TokenRows): number {
    const op = `${OP}.matchPrefix`;
    this.assertLive(op);
    if (this.writtenLength() > 0) {
      throw new TensorError(op, `needs an empty cache; this one holds ${this.writtenLength()} positions`);
    }
    const rows = this.rows(op, tokens);
    const bs = this.blockSize;
    const found = rows.map((ids) => {
      const blocks: number[] = [];
      const keys: string[] = [];
      if (!this.pool.prefixCaching) return { blocks, keys };
      let parent = rootKey(this.salt);
      for (let i = 0; (i + 1) * bs <= ids.length - 1; i++) {
        const part = Array.prototype.slice.call(ids, i * bs, (i + 1) * bs) as number[];
        const key = blockKey(parent, part);
        const id = this.pool.lookup(key, parent, part);
        if (id < 0) break;
        blocks.push(id);
        keys.push(key);
        parent = key;
      }
      return { blocks, keys };
    });
    const m = Math.min(...found.map((f) => f.blocks.length));
    // A quantized pool keeps unreferenced cached blocks quantized only: read those (and every
    // block before them) quantized; quantizeOld below applies the window rule.
    let qb = 0;
    for (const f of found)
      f.blocks.slice(0, m).forEach((id, i) => {
        if (!this.pool.hasF32(id)) qb = Math.max(qb, i + 1);
      });
    rows.forEach((ids, b) => {
      found[b].blocks.slice(0, m).forEach((id, i) => {
        this.pool.retain(id, i < qb);
        this.tables[b].push(id);
      });
      this.chains[b] = found[b].keys.slice(0, m);
      this.toks[b] = Array.prototype.slice.call(ids, 0, m * bs) as number[];
    });
    this.tableDirty = true;
    this.qBlocks = qb;
    this.committed = m * bs;
    this.lens.fill(this.committed);
    this.quantizeOld();
    this.pool.countLookup(
      rows.reduce((s, r) => s + r.length, 0),
      m * bs * this.batch,
    );
    return this.committed;
  }

  /** A cache on the same pool sharing every block (copy-on-write), with the same salt. */
  fork(): PagedKVCache {
    this.assertLive(`${OP}.fork`);
    const copy = new PagedKVCache(this.pool, this.batch, this.maxLength, this.salt);
    copy.committed = this.committed;
    copy.pad = [...this.pad];
    copy.evicted = this.evicted;
    copy.lens = [...this.lens];
    copy.tables = this.tables.map((t) => [...t]);
    copy.qBlocks = this.qBlocks;
    for (const t of copy.tables) {
      t.forEach((id, i) => {
        this.pool.retain(id, i < this.qBlocks);
      });
    }
    copy.toks = this.toks.map((t) => [...t]);
    copy.chains = this.chains.map((c) => [...c]);
    return copy;
  }

  memory(): PagedKVMemory {
    const perPos = this.batch * this.numKvHeads * this.headDim * 4 * 2 * this.numLayers;
    const count = new Map<number, number>();
    for (const t of this.tables) for (const id of t) count.set(id, (count.get(id) ?? 0) + 1);
    let shared = 0;
    let allocated = 0;
    let exclusive = 0;
    for (const [id, n] of count) {
      const refs = this.pool.refCount(id);
      allocated += this.pool.bytesOf(id);
      if (refs > 1) shared++;
      if (refs === n) exclusive += this.pool.bytesOf(id);
    }
    // Committed positions: those read quantized at the quantized bytes per position, the rest f32.
    const qpos = Math.min(this.committed, this.qBlocks * this.blockSize);
    const qPerPos = (this.batch * this.pool.quantizedBytesPerBlock) / this.blockSize;
    return {
      allocatedBytes: allocated,
      usedBytes: qpos * qPerPos + (this.committed - qpos) * perPos,
      length: this.committed,
      maxLength: this.maxLength,
      blocks: count.size,
      sharedBlocks: shared,
      exclusiveBytes: exclusive,
      quantizedBlocks: this.qBlocks,
      f32Bytes: count.size * this.pool.bytesPerBlock,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.trim(0);
    this.tableTensor?.dispose();
    this.tableTensor = null;
    this.pool.detach(this);
    this.disposed = true;
  }

  // ---------------------------------------------------------------- internals

  private assertLive(op: string): void {
    if (this.disposed) throw new TensorError(op, 'the cache was disposed');
    this.pool.assertLive(op);
  }

  private assertCommitted(op: string): void {
    assertNothingPending(op, this.lens, this.committed);
  }

  private layer(op: string, i: number): number {
    checkLayerIndex(op, i, this.numLayers, this.disposed);
    this.pool.assertLive(op);
    return i;
  }

  private row(op: string, b: number): number {
    this.assertLive(op);
    if (!Number.isInteger(b) || b < 0 || b >= this.batch) {
      throw new TensorError(op, `row ${b} is out of range [0, ${this.batch})`);
    }
    return b;
  }

  private rows(op: string, tokens: TokenRows): ArrayLike<number>[] {
    const isRow = (x: unknown): x is ArrayLike<number> =>
      typeof x === 'object' && x !== null && typeof (x as ArrayLike<number>).length === 'number';
    const perRow = Array.isArray(tokens) && tokens.length > 0 && tokens.every(isRow);
    const rows = perRow
      ? (tokens as ArrayLike<number>[])
      : this.batch === 1 && isRow(tokens)
        ? [tokens as ArrayLike<number>]
        : null;
    if (!rows || rows.length !== this.batch) {
      throw new TensorError(
        op,
        `expected one array of token ids per row (${this.batch} rows)${this.batch === 1 ? ' or one flat array' : ''}`,
      );
    }
    for (const ids of rows) {
      for (let i = 0; i < ids.length; i++) {
        if (!Number.isInteger(ids[i]) || ids[i] < 0) {
          throw new TensorError(op, `token ids must be integers >= 0, got ${ids[i]}`);
        }
      }
    }
    return rows;
  }

  /** Validates k, v [B, KV, S, D] and returns S. */
  private checkKV(op: string, k: Tensor, v: Tensor, dtype: 'f32' | null): number {
    return checkKV(
      op,
      k,
      v,
      dtype,
      this,
      (name, t) => `${name} is on '${t.device}' but the cache's pool lives on '${this.device}'`,
    );
  }

  /**
   * New blocks a write into logical blocks `indices` of every row needs: one per index past a row's
   * table or read quantized (replaced by an f32 block), and one copy per shared entry (a block named
   * c times here and r > c times in all needs c copies; named only here, c - 1).
   */
  private copiesNeeded(indices: readonly number[]): number {
    let need = 0;
    const here = new Map<number, number>();
    for (const t of this.tables) {
      for (const i of indices) {
        if (i >= t.length || i < this.qBlocks) need++;
        else here.set(t[i], (here.get(t[i]) ?? 0) + 1);
      }
    }
    for (const [id, c] of here) need += this.pool.refCount(id) > c ? c : c - 1;
    return need;
  }

  /** Makes positions [start, end) of every row writable: blocks allocated, shared ones copied. */
  private prepareWrite(op: string, start: number, end: number): void {
    if (end <= start) return;
    const bs = this.blockSize;
    const first = Math.floor(start / bs);
    const last = Math.floor((end - 1) / bs);
    const indices = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    // Fast path of a decode step: every touched block already ours alone, unhashed, f32 only.
    const ready = this.tables.every((t) =>
      indices.every((i) => i < t.length && i >= this.qBlocks && this.pool.writable(t[i])),
    );
    if (ready) return;
    this.pool.reserve(op, this.copiesNeeded(indices));
    if (first < this.qBlocks) this.unquantizeFrom(op, first);
    for (let b = 0; b < this.batch; b++) {
      for (const i of indices) {
        if (i >= this.tables[b].length) {
          this.tables[b].push(this.pool.allocate(op));
          this.tableDirty = true;
        } else {
          this.ensureWritable(op, b, i);
        }
      }
    }
  }

  /**
   * Blocks [i, quantizedBlocks) of every row (a block a truncation cut, about to be written) are
   * replaced by f32 blocks holding their dequantized positions.
   */
  private unquantizeFrom(op: string, i: number): void {
    for (let b = 0; b < this.batch; b++) {
      const t = this.tables[b];
      for (let j = i; j < Math.min(this.qBlocks, t.length); j++) {
        const copy = this.pool.allocate(op);
        this.pool.copyBlock(t[j], copy, true);
        this.pool.release(t[j], true);
        t[j] = copy;
        this.tableDirty = true;
      }
      if (this.chains[b].length > i) this.chains[b].length = i;
    }
    this.qBlocks = i;
  }

  /**
   * Quantized pools, at commit: blocks leave the f32 window while residualBlocks whole blocks of
   * committed positions stay in it (KIVI's rule; QuantizedKVCache's with group = blockSize).
   */
  private quantizeOld(): void {
    const q = this.pool.quantization;
    if (!q) return;
    const target = Math.floor(this.committed / this.blockSize) - q.residualBlocks;
    if (target <= this.qBlocks) return;
    for (const t of this.tables) for (let i = this.qBlocks; i < target; i++) this.pool.readQuantized(t[i]);
    this.qBlocks = target;
  }

  /** Row b's logical block i (read in f32) becomes this row's alone and leaves the prefix cache (copy-on-write). */
  private ensureWritable(op: string, b: number, i: number): void {
    const t = this.tables[b];
    const id = t[i];
    if (this.pool.refCount(id) > 1) {
      const copy = this.pool.allocate(op);
      this.pool.copyBlock(id, copy);
      this.pool.release(id);
      t[i] = copy;
      this.tableDirty = true;
    } else {
      this.pool.uncache(id);
    }
    if (this.chains[b].length > i) this.chains[b].length = i;
  }

  /** Copies src [B, KV, S, D] (f32, any strides) to positions start .. start + S - 1 of `layer`. */
  private write(layer: number, kind: 'k' | 'v', src: Tensor, start: number): void {
    const [B, KV, S, D] = src.shape;
    const bs = this.blockSize;
    const dst = this.pool.data(layer, kind);
    const s = cpuStorage(src) as Float32Array;
    const [sb, sh, ss, sd] = src.strides;
    for (let b = 0; b < B; b++) {
      const table = this.tables[b];
      // One run per block: consecutive positions of a block are consecutive rows of D floats.
      for (let p = 0; p < S; ) {
        const pos = start + p;
        const slot = pos % bs;
        const n = Math.min(S - p, bs - slot);
        const id = table[Math.floor(pos / bs)];
        for (let h = 0; h < KV; h++) {
          const so = src.offset + b * sb + h * sh + p * ss;
          const d0 = this.pool.offset(id, h, slot);
          if (sd === 1 && ss === D) dst.set(s.subarray(so, so + n * D), d0);
          else
            for (let r = 0; r < n; r++)
              for (let e = 0; e < D; e++) dst[d0 + r * D + e] = s[so + r * ss + e * sd];
        }
        p += n;
      }
    }
  }

  /** Position p of row b, head h of `layer` (dequantized if its block is read quantized) into out at `at`. */
  private readPosition(
    layer: number,
    kind: 'k' | 'v',
    b: number,
    h: number,
    p: number,
    out: Float32Array,
    at: number,
  ): void {
    const bs = this.blockSize;
    const i = Math.floor(p / bs);
    const id = this.tables[b][i];
    if (i < this.qBlocks) {
      dequantizeRowsInto(this.pool.quantized(id, layer, h)[kind], p % bs, (p % bs) + 1, out, at);
      return;
    }
    const s0 = this.pool.offset(id, h, p % bs);
    out.set(this.pool.data(layer, kind).subarray(s0, s0 + this.headDim), at);
  }

  private gather(layer: number, kind: 'k' | 'v'): Tensor {
    const len = this.lens[layer];
    const KV = this.numKvHeads;
    const D = this.headDim;
    const bs = this.blockSize;
    const out = zeros([this.batch, KV, len, D], { device: this.device });
    const o = cpuStorage(out) as Float32Array;
    const src = this.pool.data(layer, kind);
    for (let b = 0; b < this.batch; b++) {
      const table = this.tables[b];
      for (let h = 0; h < KV; h++) {
        for (let pos = 0; pos < len; ) {
          const slot = pos % bs;
          const n = Math.min(len - pos, bs - slot);
          const i = Math.floor(pos / bs);
          const at = ((b * KV + h) * len + pos) * D;
          if (i < this.qBlocks) {
            dequantizeRowsInto(this.pool.quantized(table[i], layer, h)[kind], slot, slot + n, o, at);
          } else {
            const s0 = this.pool.offset(table[i], h, slot);
            o.set(src.subarray(s0, s0 + n * D), at);
          }
          pos += n;
        }
      }
    }
    return out;
  }

  private blockTableTensor(): Tensor {
    if (this.tableDirty || !this.tableTensor) {
      const cols = Math.max(1, ...this.tables.map((t) => t.length));
      const ids = new Int32Array(this.batch * cols);
      for (let b = 0; b < this.batch; b++) ids.set(this.tables[b], b * cols);
      this.tableTensor?.dispose();
      this.tableTensor = keep(fromStorageArray(ids, [this.batch, cols], 'i32', this.device));
      this.tableDirty = false;
    }
    return this.tableTensor;
  }

  /** Committed length n (n <= committed, nothing pending): blocks past it released, keys cut. */
  private shorten(n: number): void {
    this.committed = n;
    this.lens.fill(n);
    this.trim(n);
    for (let b = 0; b < this.batch; b++) {
      if (this.toks[b].length > n) this.toks[b].length = n;
      const full = Math.floor(this.toks[b].length / this.blockSize);
      if (this.chains[b].length > full) this.chains[b].length = full;
    }
  }

  /** Releases every row's blocks past the first ceil(n / blockSize), last block first (vLLM's order). */
  private trim(n: number): void {
    const keepBlocks = Math.ceil(n / this.blockSize);
    for (const t of this.tables) {
      if (t.length <= keepBlocks) continue;
      for (let i = t.length - 1; i >= keepBlocks; i--) this.pool.release(t[i], i < this.qBlocks);
      t.length = keepBlocks;
      this.tableDirty = true;
    }
    this.qBlocks = Math.min(this.qBlocks, keepBlocks);
  }

  /** Keys row b's full blocks whose ids are recorded and puts them in the pool's prefix cache. */
  private register(b: number): void {
    if (!this.pool.prefixCaching) return;
    const bs = this.blockSize;
    const rec = this.toks[b];
    const chain = this.chains[b];
    while ((chain.length + 1) * bs <= rec.length) {
      const i = chain.length;
      const parent = i > 0 ? chain[i - 1] : rootKey(this.salt);
      const ids = rec.slice(i * bs, (i + 1) * bs);
      for (let s = 0; s < bs && i * bs + s < this.pad[b]; s++) ids[s] = PAD_TOKEN;
      const key = blockKey(parent, ids);
      chain.push(key);
      this.pool.register(this.tables[b][i], key, parent, ids);
    }
  }
}
