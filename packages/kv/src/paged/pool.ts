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

export interface PagedPoolStats {
  numBlocks: number;
  blockSize: number;
  /** Keys and values of one block, every layer. */
  bytesPerBlock: number;
  /** The whole pool (allocated up front). */
  totalBytes: number;
  /** Unreferenced and holding no cached prefix. */
  freeBlocks: number;
  /** Unreferenced but holding a cached prefix block (reused on a hit, evicted last). */
  cachedBlocks: number;
  /** Referenced by at least one block table. */
  usedBlocks: number;
  /** Referenced by more than one block-table entry (forks, prefix hits). */
  sharedBlocks: number;
  /** usedBlocks · bytesPerBlock: the memory the live sequences take. */
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
  readonly bytesPerBlock: number;
  /** Floats of one block of one head in one layer's key (or value) storage. */
  readonly blockElems: number;
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
    const blocks = () => {
      const store = zeros([o.numKvHeads, o.numBlocks, o.blockSize, o.headDim], { device: o.device });
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
    for (let id = 0; id < this.numBlocks; id++) {
      const r = this.refs[id];
      if (r === 0) {
        if (this.keys[id] === null) free++;
        else cached++;
      } else {
        used++;
        if (r > 1) shared++;
      }
    }
    // A block's filled slots: the most that any row holding it has written.
    const fill = new Int32Array(this.numBlocks);
    let sequences = 0;
    let tableEntries = 0;
    for (const c of this.members) {
      const written = c.writtenLength();
      for (let b = 0; b < c.batch; b++) {
        sequences++;
        const table = c.blockTable(b);
        tableEntries += table.length;
        table.forEach((id, i) => {
          const n = Math.max(0, Math.min(this.blockSize, written - i * this.blockSize));
          if (n > fill[id]) fill[id] = n;
        });
      }
    }
    let empty = 0;
    for (let id = 0; id < this.numBlocks; id++) if (this.refs[id] > 0) empty += this.blockSize - fill[id];
    const c = this.counters;
    return {
      numBlocks: this.numBlocks,
      blockSize: this.blockSize,
      bytesPerBlock: this.bytesPerBlock,
      totalBytes: this.numBlocks * this.bytesPerBlock,
      freeBlocks: free,
      cachedBlocks: cached,
      usedBlocks: used,
      sharedBlocks: shared,
      usedBytes: used * this.bytesPerBlock,
      caches: this.members.size,
      sequences,
      bytesPerSequence: sequences ? (used * this.bytesPerBlock) / sequences : 0,
      unsharedBytes: tableEntries * this.bytesPerBlock,
      fragmentation: used ? empty / (used * this.blockSize) : 0,
      copyOnWriteCopies: c.copies,
      prefixCache: {
        entries: this.cached.size,
        queriedTokens: c.queried,
        hitTokens: c.hits,
        hitRate: c.queried ? c.hits / c.queried : 0,
        evictions: c.evictions,
      },
    };
  }

  snapshot(): PagedPoolSnapshot {
    return {
      refCounts: this.refs.slice(),
      freeQueue: [...this.empty.toArray(), ...this.lru.toArray()],
      keys: [...this.keys],
      cached: new Map(this.cached),
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

  /** Layer `layer`'s key (or value) blocks [numBlocks, kvHeads, blockSize, headDim]. */
  blocks(layer: number, kind: 'k' | 'v'): Tensor {
    return kind === 'k' ? this.k[layer] : this.v[layer];
  }

  /** The storage of layer `layer`'s keys (or values), head-major: see `offset`. */
  data(layer: number, kind: 'k' | 'v'): Float32Array {
    return kind === 'k' ? this.kData[layer] : this.vData[layer];
  }

  /** Where position `slot` of block `id`, head `head` starts in `data()`. */
  offset(id: number, head: number, slot: number): number {
    return ((head * this.numBlocks + id) * this.blockSize + slot) * this.headDim;
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

  /** Throws the pool-exhausted error unless `need` blocks are available. */
  reserve(op: string, need: number): void {
    if (need <= this.available()) return;
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
    this.refs[id] = 1;
    return id;
  }

  /** One more table entry names `id` (a fork, or a prefix hit on an unreferenced cached block). */
  retain(id: number): void {
    if (this.refs[id] === 0) this.lru.remove(id); // only cached blocks are found while unreferenced
    this.refs[id]++;
  }

  /** One table entry fewer names `id`; at zero a cached block joins the LRU queue, an empty one the empties. */
  release(id: number): void {
    if (this.refs[id] <= 0) throw new TensorError(OP, `block ${id} released more often than retained`);
    if (--this.refs[id] > 0) return;
    if (this.keys[id] !== null) this.lru.pushTail(id);
    else this.empty.push(id);
  }

  /** Copies block `from` into `to`, every layer (copy-on-write). */
  copyBlock(from: number, to: number): void {
    const n = this.blockElems;
    for (let l = 0; l < this.numLayers; l++) {
      for (let h = 0; h < this.numKvHeads; h++) {
        const src = this.offset(from, h, 0);
        this.kData[l].copyWithin(this.offset(to, h, 0), src, src + n);
        this.vData[l].copyWithin(this.offset(to, h, 0), src, src + n);
      }
    }
    this.counters.copies++;
  }

  /** Drops `id` from the prefix map (its contents are about to change). */
  uncache(id: number): void {
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
}
