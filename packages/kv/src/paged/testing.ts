/**
 * @file Test helpers for the paged cache (not exported): keys and values that are a function of the
 * token prefix (as a real model's are), so a block found in the prefix cache must hold exactly what
 * the request would have computed; and the pool invariants, checked from the outside.
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import { expect } from 'vitest';
import type { PagedKVCache } from './paged-cache';
import type { PagedKVPool } from './pool';

/** Hash of a token prefix, extended one token at a time (any mixing will do; salt-dependent). */
export function extend(h: number, token: number): number {
  return Math.imul(h ^ (token + 0x9e37), 0x85ebca6b) ^ (h >>> 13);
}

export function saltHash(salt: string | undefined): number {
  let h = 0x1234567;
  for (const ch of salt ?? '') h = extend(h, ch.charCodeAt(0) + 1000);
  return h;
}

/** Prefix hashes of `tokens` (entry p covers tokens 0..p). */
export function prefixHashes(tokens: readonly number[], salt: string | undefined): number[] {
  const out: number[] = [];
  let h = saltHash(salt);
  for (const t of tokens) {
    h = extend(h, t);
    out.push(h);
  }
  return out;
}

/** The value a "model" stores at a position whose prefix hash is h: exact in f32. */
export function valueAt(h: number, layer: number, kind: number, head: number, d: number): number {
  const x = Math.imul(h, 1 + layer * 7 + kind * 3 + head * 11 + d * 13) >>> 16;
  return x / 4096 - 8;
}

/** K or V [B, KV, S, D] for positions start .. start + S - 1 of rows with these prefix hashes. */
export function kvTensor(
  hashes: readonly (readonly number[])[],
  start: number,
  S: number,
  layer: number,
  kind: 0 | 1,
  KV: number,
  D: number,
): Tensor {
  const B = hashes.length;
  const vals = new Float32Array(B * KV * S * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < KV; h++)
      for (let s = 0; s < S; s++)
        for (let d = 0; d < D; d++)
          vals[((b * KV + h) * S + s) * D + d] = valueAt(hashes[b][start + s], layer, kind, h, d);
  return tensor(vals, [B, KV, S, D]);
}

/**
 * Refcounts equal the number of block-table entries naming each block (over `live`, the caches the
 * test holds, which must be the pool's live caches); the free blocks are exactly the unreferenced
 * ones, once each, empty ones (lowest id first) before cached ones; the prefix map and the blocks'
 * keys agree.
 */
export function expectPoolInvariants(pool: PagedKVPool, live: readonly PagedKVCache[]): void {
  expect(new Set(pool.liveCaches())).toEqual(new Set(live));
  const snap = pool.snapshot();
  const counts = new Int32Array(pool.numBlocks);
  for (const c of live) for (let b = 0; b < c.batch; b++) for (const id of c.blockTable(b)) counts[id]++;
  for (let id = 0; id < pool.numBlocks; id++) {
    if (snap.refCounts[id] !== counts[id]) {
      expect.fail(`block ${id}: refcount ${snap.refCounts[id]} but ${counts[id]} table entries name it`);
    }
  }
  const free = snap.freeQueue;
  expect(new Set(free).size, 'a free block listed twice').toBe(free.length);
  const unreferenced = [...counts.keys()].filter((id) => counts[id] === 0);
  expect(
    [...free].sort((a, b) => a - b),
    'free blocks = unreferenced blocks (none leaked, none in use)',
  ).toEqual(unreferenced);
  // Allocation order: empty blocks (lowest id first), then cached ones.
  const firstCached = free.findIndex((id) => snap.keys[id] !== null);
  const empties = firstCached >= 0 ? free.slice(0, firstCached) : free;
  expect(empties, 'empty blocks in increasing id order').toEqual([...empties].sort((a, b) => a - b));
  expect(
    free.slice(empties.length).every((id) => snap.keys[id] !== null),
    'empty blocks come before cached ones',
  ).toBe(true);
  for (const [key, id] of snap.cached) expect(snap.keys[id]).toBe(key);
  snap.keys.forEach((key, id) => {
    if (key !== null) expect(snap.cached.get(key)).toBe(id);
  });
  const s = pool.stats();
  expect(s.freeBlocks + s.cachedBlocks + s.usedBlocks).toBe(pool.numBlocks);
  if (pool.quantization) expectQuantizedInvariants(pool, live);
}

/**
 * A quantized pool: entries a cache reads quantized (its first quantizedBlocks) name blocks that
 * hold a quantized copy, the others blocks that hold f32; each block's quantized-reader count is
 * right; a block holds f32 storage exactly when some entry reads it in f32; f32 storage blocks are
 * each held once or free; unreferenced blocks hold no f32, and empty ones nothing.
 */
function expectQuantizedInvariants(pool: PagedKVPool, live: readonly PagedKVCache[]): void {
  const snap = pool.snapshot();
  const qreaders = new Int32Array(pool.numBlocks);
  const f32readers = new Int32Array(pool.numBlocks);
  for (const c of live) {
    for (let b = 0; b < c.batch; b++) {
      c.blockTable(b).forEach((id, i) => {
        if (i < c.quantizedBlocks) qreaders[id]++;
        else f32readers[id]++;
      });
    }
  }
  for (let id = 0; id < pool.numBlocks; id++) {
    const where = `block ${id} (${qreaders[id]} quantized readers, ${f32readers[id]} f32 readers)`;
    if (snap.quantizedRefs[id] !== qreaders[id])
      expect.fail(`${where}: quantizedRefs ${snap.quantizedRefs[id]}`);
    if (qreaders[id] > 0 && !snap.quantized[id]) expect.fail(`${where}: holds no quantized copy`);
    if (f32readers[id] > 0 !== snap.f32Slots[id] >= 0) expect.fail(`${where}: f32 slot ${snap.f32Slots[id]}`);
    if (snap.refCounts[id] === 0 && snap.keys[id] === null && snap.quantized[id]) {
      expect.fail(`empty block ${id} still holds a quantized copy`);
    }
    if (snap.refCounts[id] === 0 && snap.keys[id] !== null && !snap.quantized[id]) {
      expect.fail(`cached block ${id} nobody references is not stored quantized`);
    }
  }
  const held = [...snap.f32Slots].filter((x) => x >= 0);
  const all = [...held, ...snap.freeF32Slots].sort((a, b) => a - b);
  expect(all, 'f32 storage blocks: each held once or free').toEqual(
    Array.from({ length: pool.quantization?.f32Blocks ?? 0 }, (_, i) => i),
  );
}
