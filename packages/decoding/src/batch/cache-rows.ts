/**
 * @file Re-picking the rows of a KV cache: row i of the result is a copy of row rows[i] of `cache`
 * (rows may repeat, and the batch may grow or shrink). Beam search needs it after every step, as
 * Hugging Face's `_reorder_cache` (an index_select on the batch axis of every layer). Works for any
 * KVCache through the contract alone: a fresh cache of the model, one append per layer, one commit.
 */
import { concat, type Tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';

function gatherRows(t: Tensor, rows: readonly number[]): Tensor {
  const parts = rows.map((r) => t.slice(0, r, r + 1));
  const out = concat(parts, 0);
  for (const p of parts) p.dispose();
  return out;
}

const isIdentity = (rows: readonly number[], batch: number) =>
  rows.length === batch && rows.every((r, i) => r === i);

/**
 * A cache whose row i holds row rows[i] of `cache`, with the same committed length and the rows'
 * padding. Returns `cache` itself when rows is the identity; otherwise a new cache (the caller
 * disposes the old one).
 */
export function gatherCacheRows(model: CausalLM, cache: KVCache, rows: readonly number[]): KVCache {
  if (isIdentity(rows, cache.batch)) return cache;
  const out = model.createCache({
    batch: rows.length,
    maxLength: cache.maxLength,
    capacity: cache.maxLength,
  });
  try {
    if (cache.length > 0) {
      for (let l = 0; l < cache.numLayers; l++) {
        const k = cache.keys(l);
        const v = cache.values(l);
        const kk = gatherRows(k, rows);
        const vv = gatherRows(v, rows);
        k.dispose();
        v.dispose();
        try {
          out.append(l, kk, vv);
        } finally {
          kk.dispose();
          vv.dispose();
        }
      }
      out.commit();
    }
    out.setPadding(rows.map((r) => cache.padding[r]));
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}
