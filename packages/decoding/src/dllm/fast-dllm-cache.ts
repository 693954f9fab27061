/**
 * @file Fast-dLLM's block-wise KV caches for masked diffusion decoding (Wu et al., arXiv 2505.22618
 * §3.2; NVlabs/Fast-dLLM llada/generate.py `generate_with_prefix_cache`, `generate_with_dual_cache`).
 * Decoding runs block by block (semi-autoregressive); for the block [lo, hi) of a sequence x of
 * length L:
 *
 * - 'none': every step forwards all of x (LLaDA).
 * - 'prefix': a refresh step forwards all of x, writing its keys/values, and keeps those of the
 *   prefix [0, lo); the other steps forward only x[lo, L) against that cache. The prefix is all
 *   committed, but under bidirectional attention its keys depend on the (changing) rest, so reusing
 *   them is an approximation.
 * - 'dual': a refresh step keeps the keys/values of the prefix and of the suffix [hi, L) (Fast-dLLM's
 *   `replace_position`: only the current block's are recomputed); the other steps forward only
 *   x[lo, hi) against the cache, reusing the stale suffix too.
 *
 * A refresh happens at every block start (its logits decide that step, as in Fast-dLLM) and, with
 * `refreshEvery` = r, at every r-th step of a block; r = 1 makes every step a full forward, which
 * reproduces the uncached decoding exactly.
 *
 * With block-causal attention (block diffusion) the prefix does not attend to later blocks, so its
 * keys/values are final: 'prefix' and 'dual' then keep the committed blocks in the cache across
 * blocks (SDAR / Fast-dLLM v2 pattern) and each step forwards only the uncached committed positions
 * and the current block, which is exact.
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { DiffusionAttention, MaskedDiffusionLM } from '@hasten/models';
import { DecodingError } from '../errors';

export type CacheMode = 'none' | 'prefix' | 'dual';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** Produces the logits of the current block at each step, with the chosen cache. */
export class BlockForwarder {
  /** Forwards run so far. */
  forwards = 0;
  private cache: KVCache | null = null;
  /** Positions of the cache's slots (block-causal masks need them). */
  private cachePositions: number[] = [];

  constructor(
    private readonly model: MaskedDiffusionLM,
    private readonly mode: CacheMode,
    private readonly attention: DiffusionAttention,
    private readonly length: number,
    private readonly refreshEvery: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Logits [hi - lo, V] (row-major) of x[lo, hi) at step `stepInBlock` (0 at the block's start). */
  async blockLogits(x: Int32Array, lo: number, hi: number, stepInBlock: number): Promise<Float32Array> {
    const L = this.length;
    const V = this.model.config.vocabSize;
    if (this.mode === 'none') return this.run(x, 0, L, lo, hi, V, null);
    this.cache ??= this.model.createCache({ batch: 1, maxLength: L });
    const cache = this.cache;
    if (this.attention !== 'bidirectional') {
      // Exact reuse: cached = committed prefix [0, c); forward [c, hi), keep [0, lo).
      const c = cache.length;
      if (c > lo) throw new DecodingError('input', `BlockForwarder: cache holds ${c} > ${lo} positions`);
      const out = await this.run(x, c, hi, lo, hi, V, { write: true });
      cache.truncate(lo);
      this.cachePositions = range(0, lo);
      return out;
    }
    if (stepInBlock % this.refreshEvery === 0) {
      cache.truncate(0);
      this.cachePositions = [];
      const out = await this.run(x, 0, L, lo, hi, V, { write: true });
      if (this.mode === 'dual' && hi < L) {
        cache.keepPositions(lo, range(hi, L));
        this.cachePositions = [...range(0, lo), ...range(hi, L)];
      } else {
        cache.truncate(lo);
        this.cachePositions = range(0, lo);
      }
      return out;
    }
    return this.mode === 'dual'
      ? this.run(x, lo, hi, lo, hi, V, { write: false })
      : this.run(x, lo, L, lo, hi, V, { write: false });
  }

  /**
   * Forwards x[from, to) at positions from..to-1 (against the cache when `c` is set) and returns the
   * logits of positions [lo, hi).
   */
  private async run(
    x: Int32Array,
    from: number,
    to: number,
    lo: number,
    hi: number,
    V: number,
    c: { write: boolean } | null,
  ): Promise<Float32Array> {
    const n = to - from;
    const owned: Tensor[] = [];
    try {
      const tokens = tensor(x.slice(from, to), [1, n], { dtype: 'i32' });
      const positions = tensor(Int32Array.from(range(from, to)), [1, n], { dtype: 'i32' });
      owned.push(tokens, positions);
      const out = await this.model.forward({
        tokens,
        positions,
        attention: this.attention,
        ...(c && this.cache
          ? { cache: this.cache, cachePositions: this.cachePositions, writeCache: c.write }
          : {}),
      });
      owned.push(out.logits);
      if (c?.write && this.cache) this.cachePositions = [...this.cachePositions, ...range(from, to)];
      this.forwards++;
      const all = (await out.logits.data()) as Float32Array;
      if (all.length !== n * V) {
        throw new DecodingError(
          'logits',
          `the model returned ${all.length} logits for ${n} positions of vocab ${V}`,
        );
      }
      return all.slice((lo - from) * V, (hi - from) * V);
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  dispose(): void {
    this.cache?.dispose();
    this.cache = null;
  }
}
