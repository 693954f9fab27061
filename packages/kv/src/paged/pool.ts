/**
 * @file PagedKVPool: the block pool of a paged KV cache (PagedAttention, vLLM: arXiv:2309.06180).
 * Every block holds `blockSize` positions of every layer's keys and values; the pool allocates all
 * of them up front, one [numBlocks, kvHeads, blockSize, headDim] f32 tensor per layer for keys and
 * one for values (stored head-major, [kvHeads, numBlocks, blockSize, headDim], so one head's blocks
 * lie together and a sequence whose blocks were allocated in order reads each head as one run, as
 * from a contiguous cache). Caches (`pool.createCache()`) name the blocks they read in per-row
 * block tables. A block has a reference count (the number of table entries naming it, over all
 * caches), so forks share their prompt and copy a block only when they write into it.
 *
 * Automatic prefix caching (vLLM's design, docs/design/prefix_caching.md): a full block whose token
 * ids a cache recorded gets a key chained over the previous block's key (block-hash.ts) and goes into
 * a key → block map; a new request looks its prompt up block by block and starts from the blocks it
 * finds. A block nobody references stays in the map while it waits in the LRU queue (lru-queue.ts).
 * Allocation takes an empty block first, lowest id first (empty-blocks.ts: neighbouring blocks read
 * faster on a CPU), then the least recently released cached one, evicted (dropped from the map) at
 * that moment. When every block is referenced, allocation fails with an error that says so, before
 * the cache changes.
 *
 * KIVI block storage (`quantization: { bits, residualBlocks, f32Blocks }`, arXiv:2402.02750): the
 * f32 storage shrinks to `f32Blocks` blocks (a block being written, or in some row's f32 window,
 * holds one) and a block that leaves every row's window is stored quantized (kivi.ts: keys per
 * channel over the block's positions, values per token in groups of blockSize channels), so a block
 * is KIVI's group. Full blocks are never written again, so a quantized block is shared like any
 * other; while one row reads a shared block quantized and another still reads it in f32 (a fork
 * that ran ahead), the block holds both, and its f32 copy is freed when its last f32 reader moves
 * on (`qrefs`: the table entries that read a block quantized). A cached block nobody references is
 * kept quantized only (quantized when released), so a later prefix hit reads it quantized.
 */
import {
  CpuBackend,
  cpuStorage,
  getBackend,
  keep,
  type Tensor,
  TensorError,
  zeros,
} from '@hasten/core-tensor';
import {
  dequantizeInto,
  groupCount,
  type KiviBits,
  packedBytes,
  type QuantizedBlock,
  quantizeKeys,
  quantizeValues,
} from '../quantized/kivi';
import { EmptyBlocks } from './empty-blocks';
import { LruQueue } from './lru-queue';
import { PagedCacheOptions, PagedKVPoolOptions, parseStrict } from './options';
import { PagedKVCache } from './paged-cache';

const OP = 'PagedKVPool';

export interface PrefixCacheStats {
  /** Full blocks in the key → block map (referenced or not). */
  entries: number;
  /** Prompt positions looked up by matchPrefix, and those served from cached blocks. */
  queriedTokens: number;
  hitTokens: number;
  /** hitTokens / queriedTokens (0 before any lookup). */
  hitRate: number;
  /** Cached blocks dropped from the map to be reused. */
  evictions: number;
}

/** What a quantized pool's blocks take (PagedPoolStats.quantization). */
export interface QuantizedPoolStats {
  bits: KiviBits;
  residualBlocks: number;
  /** Blocks of f32 storage, and how many of them are free. */
  f32Blocks: number;
  freeF32Blocks: number;
  /** Blocks stored quantized (referenced or cached). */
  quantizedBlocks: number;
  /** Keys and values of one quantized block, every layer: codes, scales and mins. */
  quantizedBytesPerBlock: number;
  /** usedBytes over what the used blocks would take in f32 (usedBlocks · bytesPerBlock). */
  usedRatio: number;
}

export interface PagedPoolStats {
  numBlocks: number;
  blockSize: number;
  /** Keys and values of one block in f32, every layer. */
  bytesPerBlock: number;
  /** The whole pool: its f32 storage (allocated up front) and the quantized blocks it holds. */
  totalBytes: number;
  /** Unreferenced and holding no cached prefix. */
  freeBlocks: number;
  /** Unreferenced but holding a cached prefix block (reused on a hit, evicted last). */
  cachedBlocks: number;
  /** Referenced by at least one block table. */
  usedBlocks: number;
  /** Referenced by more than one block-table entry (forks, prefix hits). */
  sharedBlocks: number;
  /** The memory the live sequences' blocks take (usedBlocks · bytesPerBlock without quantization). */
  usedBytes: number;
  caches: number;
  /** Rows of the live caches. */
  sequences: number;
  /** usedBytes / sequences (0 without sequences). */
  bytesPerSequence: number;
  /** What the sequences' blocks would take if nothing were shared. */
  unsharedBytes: number;
  /** Slots of used blocks that hold no written position, over all slots of used blocks. */
  fragmentation: number;
  /** Blocks copied because a sequence wrote into a shared (or cached) block. */
  copyOnWriteCopies: number;
  prefixCache: PrefixCacheStats;
  /** Present on quantized pools. */
  quantization?: QuantizedPoolStats;
}

/** The pool's bookkeeping, copied out for tests and debugging. */
export interface PagedPoolSnapshot {
  refCounts: Int32Array;
  /**
   * Unreferenced blocks in the order allocation takes them: empty ones (lowest id first), then
   * cached ones (least recently released first).
   */
  freeQueue: number[];
  /** Each block's prefix key, or null. */
  keys: (string | null)[];
  /** The key → block map. */
  cached: Map<string, number>;
  /** Each block's f32 storage block, or -1 (the identity without quantization). */
  f32Slots: Int32Array;
  /** Free f32 storage blocks (none listed without quantization). */
  freeF32Slots: number[];
  /** Whether each block holds a quantized copy. */
  quantized: boolean[];
  /** Per block: the table entries that read it quantized. */
  quantizedRefs: Int32Array;
}

/** A block's quantized keys and values, index layer · kvHeads + head. */
interface QuantizedSet {
  k: QuantizedBlock[];
  v: QuantizedBlock[];
}

export class PagedKVPool {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly maxLength: number;
  readonly prefixCaching: boolean;
  readonly device: string;
  readonly dtype = 'f32' as const;
  /** Keys and values of one block in f32, every layer. */
  readonly bytesPerBlock: number;
  /** Floats of one block of one head in one layer's key (or value) storage. */
  readonly blockElems: number;
  /** KIVI block storage, or null (every block f32). */
  readonly quantization: { bits: KiviBits; residualBlocks: number; f32Blocks: number } | null;
  /** Keys and values of one quantized block, every layer (0 without quantization). */
  readonly quantizedBytesPerBlock: number;
  /** Blocks of f32 storage (numBlocks without quantization). */
  private readonly numSlots: number;
  /** Each block's f32 storage block (-1: none); the identity without quantization. */
  private readonly slots: Int32Array;
  private readonly freeSlots: EmptyBlocks | null;
  private readonly qdata: (QuantizedSet | null)[];
  private readonly qrefs: Int32Array;
  private readonly k: Tensor[];
  private readonly v: Tensor[];
  private readonly kData: Float32Array[];
  private readonly vData: Float32Array[];
  private readonly refs: Int32Array;
  private readonly keys: (string | null)[];
  private readonly parents: (string | null)[];
  private readonly tokens: Int32Array;
  private readonly empty: EmptyBlocks;
  private readonly lru: LruQueue;
  private readonly cached = new Map<string, number>();
  private readonly members = new Set<PagedKVCache>();
  private counters = { queried: 0, hits: 0, evictions: 0, copies: 0 };
  private disposed = false;

  constructor(opts: PagedKVPoolOptions) {
    const o = parseStrict(PagedKVPoolOptions, opts, OP);
    if (!(getBackend(o.device) instanceof CpuBackend)) {
      // TODO(kv issue): device-side block writes need a core-tensor scatter kernel.
      throw new TensorError(
        OP,
        `device '${o.device}': the pool writes blocks in place on CPU backends only for now`,
      );
    }
    this.numLayers = o.numLayers;
    this.numKvHeads = o.numKvHeads;
    this.headDim = o.headDim;
    this.numBlocks = o.numBlocks;
    this.blockSize = o.blockSize;
    this.maxLength = o.maxLength ?? o.numBlocks * o.blockSize;
    this.prefixCaching = o.prefixCaching;
    this.device = o.device;
    this.blockElems = o.blockSize * o.headDim;
    this.bytesPerBlock = o.numKvHeads * this.blockElems * 4 * 2 * o.numLayers;
    const q = o.quantization;
    if (q?.f32Blocks !== undefined && q.f32Blocks > o.numBlocks) {
      throw new TensorError(OP, `quantization.f32Blocks (${q.f32Blocks}) exceeds numBlocks (${o.numBlocks})`);
    }
    this.quantization = q
      ? {
          bits: q.bits,
          residualBlocks: q.residualBlocks ?? Math.ceil(128 / o.blockSize),
          f32Blocks: q.f32Blocks ?? o.numBlocks,
        }
      : null;
    const bs = o.blockSize;
    const D = o.headDim;
    this.quantizedBytesPerBlock = q
      ? (2 * packedBytes(bs * D, q.bits) +
          8 * (groupCount(bs, D, bs, 'channel') + groupCount(bs, D, bs, 'token'))) *
        o.numKvHeads *
        o.numLayers
      : 0;
    this.numSlots = this.quantization?.f32Blocks ?? o.numBlocks;
    this.slots = new Int32Array(o.numBlocks);
    this.freeSlots = q ? new EmptyBlocks(this.numSlots) : null;
    if (this.freeSlots) {
      this.slots.fill(-1);
      for (let i = 0; i < this.numSlots; i++) this.freeSlots.push(i);
    } else {
      for (let id = 0; id < o.numBlocks; id++) this.slots[id] = id;
    }
    this.qdata = new Array(o.numBlocks).fill(null);
    this.qrefs = new Int32Array(o.numBlocks);
    const blocks = () => {
      const store = zeros([o.numKvHeads, this.numSlots, o.blockSize, o.headDim], { device: o.device });
      const view = keep(store.permute([1, 0, 2, 3]));
      store.dispose(); // the view holds the storage
      return view;
    };
    this.k = Array.from({ length: o.numLayers }, blocks);
    this.v = Array.from({ length: o.numLayers }, blocks);
    this.kData = this.k.map((t) => cpuStorage(t) as Float32Array);
    this.vData = this.v.map((t) => cpuStorage(t) as Float32Array);
    this.refs = new Int32Array(o.numBlocks);
    this.keys = new Array(o.numBlocks).fill(null);
    this.parents = new Array(o.numBlocks).fill(null);
    this.tokens = new Int32Array(o.numBlocks * o.blockSize);
    this.empty = new EmptyBlocks(o.numBlocks);
    this.lru = new LruQueue(o.numBlocks);
    for (let id = 0; id < o.numBlocks; id++) this.empty.push(id);
  }

  /** A pool shaped for a model's config (`model.config`). */
  static forModel(
    config: { numLayers: number; numKvHeads: number; headDim: number; contextLength: number },
    opts: Omit<PagedKVPoolOptions, 'numLayers' | 'numKvHeads' | 'headDim'>,
  ): PagedKVPool {
    const { numLayers, numKvHeads, headDim, contextLength } = config;
    return new PagedKVPool({ maxLength: contextLength, ...opts, numLayers, numKvHeads, headDim });
  }

  /** A new, empty cache of `batch` rows drawing its blocks from this pool. */
  createCache(opts: PagedCacheOptions = {}): PagedKVCache {
    this.assertLive(`${OP}.createCache`);
    const o = parseStrict(PagedCacheOptions, opts, `${OP}.createCache`);
    return new PagedKVCache(this, o.batch, o.maxLength ?? this.maxLength, o.salt);
  }

  stats(): PagedPoolStats {
    let free = 0;
    let cached = 0;
    let used = 0;
    let shared = 0;
    let usedBytes = 0;
    let quantized = 0;
    for (let id = 0; id < this.numBlocks; id++) {
      const r = this.refs[id];
      if (this.qdata[id]) quantized++;
      if (r === 0) {
        if (this.keys[id] === null) free++;
        else cached++;
      } else {
        used++;
        usedBytes += this.bytesOf(id);
        if (r > 1) shared++;
      }
    }
    // A block's filled slots: the most that any row holding it has written.
    const fill = new Int32Array(this.numBlocks);
    let sequences = 0;
    let unsharedBytes = 0;
    for (const c of this.members) {
      const written = c.writtenLength();
      for (let b = 0; b < c.batch; b++) {
        sequences++;
        const table = c.blockTable(b);
        table.forEach((id, i) => {
          unsharedBytes += this.bytesOf(id);
          const n = Math.max(0, Math.min(this.blockSize, written - i * this.blockSize));
          if (n > fill[id]) fill[id] = n;
        });
      }
    }
    let empty = 0;
    for (let id = 0; id < this.numBlocks; id++) if (this.refs[id] > 0) empty += this.blockSize - fill[id];
    const c = this.counters;
    const q = this.quantization;
    return {
      numBlocks: this.numBlocks,
      blockSize: this.blockSize,
      bytesPerBlock: this.bytesPerBlock,
      totalBytes: this.numSlots * this.bytesPerBlock + quantized * this.quantizedBytesPerBlock,
      freeBlocks: free,
      cachedBlocks: cached,
      usedBlocks: used,
      sharedBlocks: shared,
      usedBytes,
      caches: this.members.size,
      sequences,
      bytesPerSequence: sequences ? usedBytes / sequences : 0,
      unsharedBytes,
      fragmentation: used ? empty / (used * this.blockSize) : 0,
      copyOnWriteCopies: c.copies,
      prefixCache: {
        entries: this.cached.size,
        queriedTokens: c.queried,
        hitTokens: c.hits,
        hitRate: c.queried ? c.hits / c.queried : 0,
        evictions: c.evictions,
      },
      ...(q && {
        quantization: {
          bits: q.bits,
          residualBlocks: q.residualBlocks,
          f32Blocks: q.f32Blocks,
          freeF32Blocks: this.freeSlots?.size ?? 0,
          quantizedBlocks: quantized,
          quantizedBytesPerBlock: this.quantizedBytesPerBlock,
          usedRatio: used ? usedBytes / (used * this.bytesPerBlock) : 0,
        },
      }),
    };
  }

  snapshot(): PagedPoolSnapshot {
    return {
      refCounts: this.refs.slice(),
      freeQueue: [...this.empty.toArray(), ...this.lru.toArray()],
      keys: [...this.keys],
      cached: new Map(this.cached),
      f32Slots: this.slots.slice(),
      freeF32Slots: this.freeSlots?.toArray() ?? [],
      quantized: this.qdata.map((d) => d !== null),
      quantizedRefs: this.qrefs.slice(),
    };
  }

  /** The caches drawing from this pool that are not disposed. */
  liveCaches(): PagedKVCache[] {
    return [...this.members];
  }

  /** Frees the pool's storage; its caches can no longer be used. */
  dispose(): void {
    if (this.disposed) return;
    for (const c of [...this.members]) c.dispose();
    this.disposed = true;
    for (const t of [...this.k, ...this.v]) t.dispose();
  }

  // ------------------------------------------------- used by PagedKVCache

  /**
   * Layer `layer`'s key (or value) blocks [numBlocks, kvHeads, blockSize, headDim] (block id = index
   * without quantization; a quantized pool's f32 storage has f32Blocks blocks, indexed by `offset`).
   */
  blocks(layer: number, kind: 'k' | 'v'): Tensor {
    return kind === 'k' ? this.k[layer] : this.v[layer];
  }

  /** The storage of layer `layer`'s keys (or values), head-major: see `offset`. */
  data(layer: number, kind: 'k' | 'v'): Float32Array {
    return kind === 'k' ? this.kData[layer] : this.vData[layer];
  }

  /** Where position `slot` of block `id`, head `head` starts in `data()` (the block must hold f32). */
  offset(id: number, head: number, slot: number): number {
    return ((head * this.numSlots + this.slots[id]) * this.blockSize + slot) * this.headDim;
  }

  /** Whether block `id` holds its positions in f32. */
  hasF32(id: number): boolean {
    return this.slots[id] >= 0;
  }

  /** Block `id`'s quantized keys and values of `layer`, head `head` (the block must hold them). */
  quantized(id: number, layer: number, head: number): { k: QuantizedBlock; v: QuantizedBlock } {
    const d = this.qdata[id];
    if (!d) throw new TensorError(OP, `block ${id} is not quantized`);
    const i = layer * this.numKvHeads + head;
    return { k: d.k[i], v: d.v[i] };
  }

  /** Bytes block `id` takes now: its f32 storage and its quantized copy. */
  bytesOf(id: number): number {
    return (
      (this.slots[id] >= 0 ? this.bytesPerBlock : 0) + (this.qdata[id] ? this.quantizedBytesPerBlock : 0)
    );
  }

  attach(cache: PagedKVCache): void {
    this.assertLive(`${OP}.createCache`);
    this.members.add(cache);
  }

  detach(cache: PagedKVCache): void {
    this.members.delete(cache);
  }

  assertLive(op: string): void {
    if (this.disposed) throw new TensorError(op, 'the pool was disposed');
  }

  refCount(id: number): number {
    return this.refs[id];
  }

  keyOf(id: number): string | null {
    return this.keys[id];
  }

  /** Blocks an allocation may take now: unreferenced ones, empty or cached. */
  available(): number {
    return this.empty.size + this.lru.size;
  }

  /** Throws the pool-exhausted error unless `need` blocks (each with f32 storage) are available. */
  reserve(op: string, need: number): void {
    const slots = this.freeSlots?.size ?? Number.POSITIVE_INFINITY;
    if (need <= this.available() && need <= slots) return;
    if (need <= this.available()) {
      throw new TensorError(
        op,
        `the block pool is exhausted: this step needs ${need} new blocks in f32 but only ${slots} of the ${this.numSlots} f32 blocks are free (the others hold positions being written or in f32 windows); create the pool with more quantization.f32Blocks`,
      );
    }
    const seqs = [...this.members].reduce((s, c) => s + c.batch, 0);
    throw new TensorError(
      op,
      `the block pool is exhausted: this step needs ${need} new blocks but only ${this.available()} of ${this.numBlocks} are unreferenced (the rest are held by ${this.members.size} caches, ${seqs} sequences); dispose or truncate caches, or create the pool with more blocks`,
    );
  }

  /** A block for one new owner: an empty one, else the least recently used cached one (evicted). */
  allocate(op: string): number {
    this.reserve(op, 1);
    const fresh = this.empty.pop();
    const id = fresh >= 0 ? fresh : this.lru.popHead();
    const key = this.keys[id];
    if (key !== null) {
      this.cached.delete(key);
      this.keys[id] = this.parents[id] = null;
      this.counters.evictions++;
    }
    if (this.freeSlots) {
      this.qdata[id] = null;
      this.slots[id] = this.freeSlots.pop();
    }
    this.refs[id] = 1;
    this.qrefs[id] = 0;
    return id;
  }

  /**
   * One more table entry names `id` (a fork, or a prefix hit on an unreferenced cached block);
   * `quantized`: the entry reads the block quantized.
   */
  retain(id: number, quantized = false): void {
    if (this.refs[id] === 0) this.lru.remove(id); // only cached blocks are found while unreferenced
    this.refs[id]++;
    if (quantized) this.readQuantized(id);
  }

  /**
   * A table entry naming `id` reads it quantized from now on (a new entry, or one whose row's f32
   * window moved past it): the block is quantized if it was not yet (a full block, from its f32
   * positions), and its f32 storage is freed when no entry reads it in f32 any more.
   */
  readQuantized(id: number): void {
    this.quantize(id);
    if (++this.qrefs[id] === this.refs[id]) this.freeSlot(id);
  }

  /**
   * One table entry fewer names `id` (`quantized`: that entry read it quantized). At zero a cached
   * block joins the LRU queue (in a quantized pool, stored quantized only), an empty one the empties.
   */
  release(id: number, quantized = false): void {
    if (this.refs[id] <= 0) throw new TensorError(OP, `block ${id} released more often than retained`);
    if (quantized) this.qrefs[id]--;
    if (--this.refs[id] > 0) {
      if (this.freeSlots && this.refs[id] === this.qrefs[id]) this.freeSlot(id);
      return;
    }
    if (this.keys[id] !== null) {
      if (this.freeSlots) {
        this.quantize(id);
        this.freeSlot(id);
      }
      this.lru.pushTail(id);
    } else {
      this.qdata[id] = null;
      this.freeSlot(id);
      this.empty.push(id);
    }
  }

  /**
   * Copies block `from` into `to` (which holds f32), every layer (copy-on-write); `dequantize`:
   * from its quantized copy.
   */
  copyBlock(from: number, to: number, dequantize = false): void {
    const n = this.blockElems;
    for (let l = 0; l < this.numLayers; l++) {
      for (let h = 0; h < this.numKvHeads; h++) {
        if (dequantize) {
          const q = this.quantized(from, l, h);
          dequantizeInto(q.k, this.kData[l], this.offset(to, h, 0));
          dequantizeInto(q.v, this.vData[l], this.offset(to, h, 0));
          continue;
        }
        const src = this.offset(from, h, 0);
        this.kData[l].copyWithin(this.offset(to, h, 0), src, src + n);
        this.vData[l].copyWithin(this.offset(to, h, 0), src, src + n);
      }
    }
    this.counters.copies++;
  }

  /** Whether a write may go straight into `id`: one owner, not cached, no quantized copy. */
  writable(id: number): boolean {
    return this.refs[id] === 1 && this.keys[id] === null && this.qdata[id] === null;
  }

  /** Drops `id` from the prefix map and drops its quantized copy (its contents are about to change). */
  uncache(id: number): void {
    if (this.freeSlots) this.qdata[id] = null;
    const key = this.keys[id];
    if (key === null) return;
    if (this.cached.get(key) === id) this.cached.delete(key);
    this.keys[id] = this.parents[id] = null;
  }

  /**
   * Records that block `id` holds the prefix `key` (chained from `parent`, with these token ids).
   * A block already keyed, or a key already held by another block, is left as it is (as vLLM does).
   */
  register(id: number, key: string, parent: string, tokens: ArrayLike<number>): void {
    if (!this.prefixCaching || this.keys[id] !== null || this.cached.has(key)) return;
    this.keys[id] = key;
    this.parents[id] = parent;
    this.tokens.set(tokens, id * this.blockSize);
    this.cached.set(key, id);
  }

  /** The cached block holding `key` with this parent and these token ids, or -1. */
  lookup(key: string, parent: string, tokens: ArrayLike<number>): number {
    const id = this.cached.get(key);
    if (id === undefined || this.parents[id] !== parent) return -1;
    const at = id * this.blockSize;
    for (let i = 0; i < this.blockSize; i++) if (this.tokens[at + i] !== tokens[i]) return -1;
    return id;
  }

  countLookup(queried: number, hits: number): void {
    this.counters.queried += queried;
    this.counters.hits += hits;
  }

  /** Quantizes block `id` (full, in f32) unless it already holds a quantized copy. */
  private quantize(id: number): void {
    const q = this.quantization;
    if (!q) throw new TensorError(OP, 'the pool stores blocks in f32 (no quantization option)');
    if (this.qdata[id]) return;
    const { blockSize: bs, headDim: D } = this;
    const set: QuantizedSet = { k: [], v: [] };
    for (let l = 0; l < this.numLayers; l++) {
      for (let h = 0; h < this.numKvHeads; h++) {
        const at = this.offset(id, h, 0);
        set.k.push(quantizeKeys(this.kData[l], bs, D, q.bits, bs, at));
        set.v.push(quantizeValues(this.vData[l], bs, D, q.bits, bs, at));
      }
    }
    this.qdata[id] = set;
  }

  private freeSlot(id: number): void {
    if (!this.freeSlots || this.slots[id] < 0) return;
    this.freeSlots.push(this.slots[id]);
    this.slots[id] = -1;
  }
}
