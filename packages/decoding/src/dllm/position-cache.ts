/**
 * @file The mechanism the dLLM caches beyond Fast-dLLM's share (dKV-Cache, dLLM-Cache,
 * Elastic-Cache): a KV cache holding the keys/values of an arbitrary SET of positions of the
 * sequence, and forwards of any other set of positions against it (the way Fast-dLLM's dual cache
 * forwards the current block against a cached prefix and a stale suffix). A forward appends the
 * forwarded positions' keys/values; `drop` removes the entries that should not stay.
 *
 * Cached keys carry their RoPE positions, so the slot order does not matter to bidirectional
 * attention; for block-causal attention the slots' positions are passed as `cachePositions`
 * (MaskedDiffusionLM contract). For each cached position the cache remembers the input token its
 * entry was computed from (`tokenAt`), which is what tells a cache that a position was decoded
 * since (its entry saw the mask token).
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { DiffusionAttention, MaskedDiffusionLM } from '@hasten/models';
import { DecodingError } from '../errors';

export interface PartialForward {
  /** Logits [positions.length, V] row-major, in the order of the forwarded positions. */
  logits: Float32Array;
  /** Per layer, the queries [1, H, n, D] of the last n forwarded positions (when asked). */
  queries?: Float32Array[];
}

export class PositionCache {
  /** Forwards run so far. */
  forwards = 0;
  /** Positions forwarded so far, over all forwards (a forward's work grows with them). */
  positionsForwarded = 0;
  private kv: KVCache | null = null;
  /** The position each slot holds, in slot order. */
  private slots: number[] = [];
  /** tokenAt[p]: the input token p's entry was computed from; -1 when p is not cached. */
  private readonly tokenAt: Int32Array;

  constructor(
    private readonly model: MaskedDiffusionLM,
    private readonly attention: DiffusionAttention,
    readonly length: number,
  ) {
    this.tokenAt = new Int32Array(length).fill(-1);
  }

  get size(): number {
    return this.slots.length;
  }

  has(p: number): boolean {
    return this.tokenAt[p] >= 0;
  }

  /** The token p's cached entry was computed from (-1 when p is not cached). */
  cachedToken(p: number): number {
    return this.tokenAt[p];
  }

  /** The positions of the cache's slots, in slot order. */
  positions(): readonly number[] {
    return this.slots;
  }

  clear(): void {
    this.kv?.truncate(0);
    for (const p of this.slots) this.tokenAt[p] = -1;
    this.slots = [];
  }

  /** Removes the entries of the positions for which `drop(p)` holds. */
  drop(drop: (p: number) => boolean): void {
    const prefix = this.slots.findIndex(drop);
    if (prefix < 0 || !this.kv) return;
    const kept: number[] = [];
    for (let s = prefix + 1; s < this.slots.length; s++) if (!drop(this.slots[s])) kept.push(s);
    for (let s = prefix; s < this.slots.length; s++) {
      if (drop(this.slots[s])) this.tokenAt[this.slots[s]] = -1;
    }
    this.kv.keepPositions(prefix, kept);
    this.slots = [...this.slots.slice(0, prefix), ...kept.map((s) => this.slots[s])];
  }

  /**
   * Forwards x at `positions` (none of them cached; any order) against the cached entries and
   * appends their keys/values. `queries` = n returns the queries of the last n forwarded positions.
   */
  async forward(x: Int32Array, positions: readonly number[], queries?: number): Promise<PartialForward> {
    const n = positions.length;
    for (const p of positions) {
      if (this.has(p)) throw new DecodingError('input', `PositionCache: position ${p} is already cached`);
    }
    this.kv ??= this.model.createCache({ batch: 1, maxLength: this.length });
    const V = this.model.config.vocabSize;
    const owned: Tensor[] = [];
    try {
      const tokens = tensor(
        Int32Array.from(positions, (p) => x[p]),
        [1, n],
        { dtype: 'i32' },
      );
      const pos = tensor(Int32Array.from(positions), [1, n], { dtype: 'i32' });
      owned.push(tokens, pos);
      const out = await this.model.forward({
        tokens,
        positions: pos,
        attention: this.attention,
        cache: this.kv,
        cachePositions: this.slots,
        writeCache: true,
        ...(queries ? { outputQueries: queries } : {}),
      });
      owned.push(out.logits);
      this.forwards++;
      this.positionsForwarded += n;
      for (const p of positions) {
        this.slots.push(p);
        this.tokenAt[p] = x[p];
      }
      const logits = (await out.logits.data()) as Float32Array;
      if (logits.length !== n * V) {
        throw new DecodingError(
          'logits',
          `the model returned ${logits.length} logits for ${n} positions of vocab ${V}`,
        );
      }
      if (queries && !out.queries) {
        throw new DecodingError(
          'input',
          'this cache needs the attention queries; the model does not return them (outputQueries)',
        );
      }
      return { logits, ...(out.queries ? { queries: out.queries } : {}) };
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** Keys [1, KV, size, D] row-major of `layer`, in slot order. */
  async keys(layer: number): Promise<Float32Array> {
    if (!this.kv) return new Float32Array(0);
    const k = this.kv.keys(layer);
    try {
      return Float32Array.from((await k.data()) as Float32Array);
    } finally {
      k.dispose();
    }
  }

  dispose(): void {
    this.kv?.dispose();
    this.kv = null;
  }
}

/** The rows of the block [lo, hi) among forwarded positions (rows of positions not forwarded are 0). */
export function blockRows(
  logits: Float32Array,
  positions: readonly number[],
  lo: number,
  hi: number,
  V: number,
  into?: Float32Array,
): Float32Array {
  const out = into ?? new Float32Array((hi - lo) * V);
  positions.forEach((p, i) => {
    if (p >= lo && p < hi) out.set(logits.subarray(i * V, (i + 1) * V), (p - lo) * V);
  });
  return out;
}

export const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

/** What generateDiffusion asks of a cache: the logits of the current block at each step. */
export interface StepForwarder {
  /** Forwards run so far. */
  readonly forwards: number;
  /**
   * Logits [hi - lo, V] of x[lo, hi) at step `stepInBlock` of the block (0 at its start); only the
   * rows of masked positions are read.
   */
  blockLogits(x: Int32Array, lo: number, hi: number, stepInBlock: number): Promise<Float32Array>;
  dispose(): void;
}
