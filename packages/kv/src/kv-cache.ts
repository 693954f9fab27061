/**
 * @file The KV-cache contract every model in @hasten/models writes through. A cache holds, per
 * layer, keys and values of shape [batch, kvHeads, length, headDim] (after RoPE, before GQA head
 * repetition, as Hugging Face caches them).
 *
 * Length protocol (one forward = one "step"):
 * - `length` is the number of committed positions, the same in every layer.
 * - During a forward, each layer calls `append(layer, k, v)` once (or `adopt`, see below); the new
 *   positions are visible at once through `keys(layer)` / `values(layer)` of that layer.
 * - When every layer has been written, the model calls `commit()`: all layers must then hold the
 *   same number of positions, which becomes the new `length`. On failure the model calls
 *   `rollback()`, which forgets everything written since the last commit.
 * - `truncate(n)` rewinds committed positions (rejected speculative drafts) in O(1).
 * - `keepPositions(prefix, kept)` keeps committed positions [0, prefix) plus the listed later ones,
 *   moved down in order: a speculative tree's accepted path, whose nodes are not contiguous.
 *
 * Batches of different lengths are left-padded: `padding[b]` leading slots of row b hold no token
 * (set once, on an empty cache, by the first forward); models hide them from attention.
 *
 * A paged cache (paged/paged-cache.ts) also offers `attentionView(layer)`: its block pool and block
 * tables, which core-tensor's `pagedSdpa` reads in place; a model uses it when present and falls
 * back to `keys()` / `values()` otherwise. A quantized cache (quantized/quantized-cache.ts) offers
 * `attend(layer, q, opts)` instead: attention computed from its packed codes, no dense copy.
 */
import type { PagedKV, Tensor } from '@hasten/core-tensor';

export interface KVMemory {
  /** Bytes of storage allocated for keys and values across all layers. */
  allocatedBytes: number;
  /** Bytes holding committed positions. */
  usedBytes: number;
  /** Committed positions. */
  length: number;
  /** Positions the cache may hold (the model's context limit or the user's choice). */
  maxLength: number;
}

export interface KVCache {
  readonly numLayers: number;
  readonly batch: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly maxLength: number;
  /** Committed positions. */
  readonly length: number;
  /** Positions written to `layer` (committed + pending). */
  layerLength(layer: number): number;
  /** Write k, v [B, KV, S, D] after the positions already written to `layer`. */
  append(layer: number, k: Tensor, v: Tensor): void;
  /**
   * Take ownership of k, v [B, KV, T, D] holding ALL positions of `layer` (the committed ones and
   * T - length new ones), for runtimes that return the whole cache (ONNX `present.*`). No copy;
   * the cache owns k and v from then on and disposes them (pass distinct tensors or views).
   */
  adopt(layer: number, k: Tensor, v: Tensor): void;
  /** View [B, KV, layerLength(layer), D] of the keys. The caller disposes the view. */
  keys(layer: number): Tensor;
  /** View [B, KV, layerLength(layer), D] of the values. The caller disposes the view. */
  values(layer: number): Tensor;
  /**
   * Optional (paged caches): layer `layer` as `pagedSdpa` reads it, without a copy; the tensors
   * belong to the cache (do not dispose them) and are valid until the cache next changes.
   */
  attentionView?(layer: number): PagedKV;
  /**
   * Optional (quantized caches): attention of q [B, Hq, S, D] over every position `layer` holds,
   * computed by the cache from its own storage (sdpa's semantics: `causal` puts query i at position
   * T − S + i; `mask` is bool, broadcastable to [B, Hq, S, T]). A model uses it instead of
   * `keys()` / `values()` + sdpa when present; returns a new tensor [B, Hq, S, D].
   */
  attend?(layer: number, q: Tensor, opts?: { causal?: boolean; mask?: Tensor; scale?: number }): Tensor;
  /**
   * Optional (per-head eviction, e.g. AdaKV): which slots of `layer` each kv head may attend to,
   * [B, KV, layerLength(layer)] row-major with 1 = attend, or null when every slot is visible.
   * Models AND it into their attention mask. Slots appended later are visible.
   */
  visibility?(layer: number): Uint8Array | null;
  /** Optional: set the visibility of `layer`'s committed slots, [B, KV, length] of 0 / 1. */
  setVisibility?(layer: number, visible: ArrayLike<number>): void;
  /** Make the positions written since the last commit part of `length` (all layers must agree). */
  commit(): void;
  /** Forget positions written since the last commit. */
  rollback(): void;
  /** Keep only the first `n` committed positions (n = 0 also clears the padding). */
  truncate(n: number): void;
  /**
   * Keep committed positions [0, prefix) and then `kept` (strictly increasing committed positions
   * >= prefix), moved to prefix, prefix + 1, ...; the length becomes prefix + kept.length. Copies
   * only the kept positions that move: O(kept), not O(length).
   */
  keepPositions(prefix: number, kept: readonly number[]): void;
  /**
   * Positions evicted before the cached ones (0 unless eviction ran): the next token of row b sits
   * at position `length + positionOffset - padding[b]`, so kept keys, rotated at their original
   * positions, stay at their true distance from new queries. `truncate(0)` resets it.
   */
  readonly positionOffset: number;
  /** Record `n` more evicted positions (`compress` calls this after `keepPositions`). */
  addPositionOffset(n: number): void;
  /** Leading pad slots per row (left padding); all zeros when the rows are not padded. */
  readonly padding: readonly number[];
  /** Record the left padding of each row; only on an empty cache, each entry >= 0. */
  setPadding(padding: readonly number[]): void;
  /** An independent deep copy (same capacity, same contents). */
  fork(): KVCache;
  memory(): KVMemory;
  dispose(): void;
}
